"""The U-Net of "Learning to See in the Dark" (Chen et al., CVPR 2018, arXiv 1805.01934), on sRGB.

Per level two 3x3 convolutions with LeakyReLU(0.2); 2x2 max-pooling down, 2x2 transposed
convolutions up, concatenated skips; 32 to 512 channels over five levels. SID ends in 12
channels and a depth-to-space for raw Bayer input; on sRGB input the last 1x1 conv gives 3.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .base import EnhancementNet
from .registry import register_model


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
    )


@register_model("sid-unet", "U-Net of Learning to See in the Dark (sRGB), 32-512 channels",
                in_channels=3, out_channels=3, width=32, depth=4)
class SIDUNet(EnhancementNet):
    """``width * 2**i`` channels at level ``i``; input ``(B, 3, H, W)`` any size, output same shape."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 32, depth: int = 4):
        super().__init__()
        chans = [width * 2 ** i for i in range(depth + 1)]
        self.multiple = 2 ** depth
        self.pool = nn.MaxPool2d(2)
        self.encoders = nn.ModuleList(
            _double_conv(in_channels if i == 0 else chans[i - 1], chans[i]) for i in range(depth + 1))
        self.upsamplers = nn.ModuleList(
            nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(depth)))
        self.decoders = nn.ModuleList(_double_conv(2 * chans[i], chans[i]) for i in reversed(range(depth)))
        self.out = nn.Conv2d(chans[0], out_channels, 1)

    def forward_padded(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        skips = []
        for i, enc in enumerate(self.encoders):
            x = enc(x if i == 0 else self.pool(x))
            skips.append(x)
        y = skips.pop()
        for up, dec in zip(self.upsamplers, self.decoders):
            y = dec(torch.cat([up(y), skips.pop()], dim=1))
        return self.out(y)
