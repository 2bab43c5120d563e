"""The report's "DeeperUNet": a residual U-Net, five levels, 64 to 2048 channels (about 130M parameters).

Rebuilt from the report's prose, since its printed code is garbled: ResidualBlock is
conv3x3-BN-ReLU-conv3x3-BN plus a 1x1 projection when the channel count changes, with a ReLU
after the sum; Down is max-pool then a ResidualBlock; Up is a 2x2 transposed convolution that
halves the channels, concatenation with the skip, then a ResidualBlock; OutConv is a 1x1
convolution with no activation, as in the report.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .base import EnhancementNet
from .registry import register_model


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1-projected) skip, ReLU after the sum."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.adjust_channels = (nn.Conv2d(in_channels, out_channels, 1)
                                if in_channels != out_channels else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.adjust_channels is None else self.adjust_channels(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class Down(nn.Module):
    """Halve the resolution (max-pool), then a ResidualBlock."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.residual_block = ResidualBlock(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual_block(self.pool(x))


class Up(nn.Module):
    """Double the resolution (transposed conv to half the channels), concatenate the skip, ResidualBlock."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
        self.residual_block = ResidualBlock(in_channels // 2 + out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.residual_block(torch.cat([skip, self.up(x)], dim=1))


class OutConv(nn.Module):
    """1x1 convolution to the output channels."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


@register_model("seed-unet", "the report's residual U-Net (DeeperUNet), 64-2048 channels",
                in_channels=3, out_channels=3, width=64, depth=5)
class SeedUNet(EnhancementNet):
    """``width * 2**i`` channels at level ``i`` for ``i = 0..depth``; input any size (padded, cropped back).

    Input and output: ``(B, 3, H, W)`` floats; the output is not clamped (the report's MSE on raw output).
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, depth: int = 5):
        super().__init__()
        chans = [width * 2 ** i for i in range(depth + 1)]
        self.multiple = 2 ** depth
        self.inc = ResidualBlock(in_channels, chans[0])
        self.downs = nn.ModuleList(Down(chans[i], chans[i + 1]) for i in range(depth))
        self.ups = nn.ModuleList(Up(chans[i + 1], chans[i]) for i in reversed(range(depth)))
        self.outc = OutConv(chans[0], out_channels)

    def forward_padded(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in self.ups:
            y = up(y, skips.pop())
        return self.outc(y)
