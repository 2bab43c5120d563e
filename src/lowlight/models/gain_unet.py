"""GainUNet: a compact enhancer that works at 1/4 resolution and predicts a per-pixel gain.

The image is folded into channels (pixel-unshuffle by ``factor``), a small three-level U-Net of
residual 3x3 blocks runs there, and the head predicts a smooth RGB gain map (upsampled
bilinearly) and a full-resolution residual (pixel-shuffle): ``out = x * gain + residual``.
Brightening is multiplicative, so dark detail is lifted rather than redrawn, and the costly
convolutions see 1/16 of the pixels: about 0.75M parameters and 2 GMACs at 600x400 by default.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..color import luma
from .base import EnhancementNet
from .common import unet_pass
from ..errors import LowlightError
from .registry import register_model

#: How many numbers :func:`image_statistics` gives (the first inputs of :class:`GlobalContext`).
N_STATS = 8
#: Side of the area-average the statistics are measured on.
STATS_SIDE = 64
#: Length of the feature vector :class:`ThumbnailEncoder` gives.
THUMB_FEATURES = 64


def image_statistics(x: torch.Tensor) -> torch.Tensor:
    """Exposure and colour statistics of whole images ``(B, 3, H, W)`` -> ``(B, N_STATS)``.

    Mean R, G, B; luma quantiles 0.5, 0.9, 0.99; mean log luma; luma spread. Measured on a
    64x64 area-average so they barely depend on resolution: tiled inference computes them once
    on the full image and hands them to every tile, so tiles agree on how much to brighten.
    """
    small = F.adaptive_avg_pool2d(x.float(), (STATS_SIDE, STATS_SIDE))
    y = luma(small, axis=1).flatten(1)
    q = torch.quantile(y, torch.tensor([0.5, 0.9, 0.99], device=x.device), dim=1).T
    return torch.cat([small.mean(dim=(2, 3)), q, torch.log(y + 1e-3).mean(1, keepdim=True),
                      y.std(1, keepdim=True)], dim=1)


def image_descriptor(x: torch.Tensor, thumb: int) -> torch.Tensor:
    """:func:`image_statistics` followed by a ``thumb`` x ``thumb`` area-average thumbnail of the
    whole image, flattened: ``(B, N_STATS + 3 * thumb * thumb)``. The thumbnail lets the network learn
    what kind of scene it sees (how bright its reference should be), not only how dark it is."""
    small = F.adaptive_avg_pool2d(x.float(), (thumb, thumb))
    return torch.cat([image_statistics(x), small.flatten(1)], dim=1)


class ThumbnailEncoder(nn.Module):
    """A small strided CNN on the exposure-normalised log thumbnail -> one feature vector."""

    def __init__(self, thumb: int, features: int = THUMB_FEATURES):
        super().__init__()
        self.thumb = thumb
        chans = [3, 16, 32, 64, features]
        layers = []
        for a, b in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.LeakyReLU(0.1)]
        self.net = nn.Sequential(*layers)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        t = torch.log(pixels.reshape(-1, 3, self.thumb, self.thumb) + 1e-3)
        t = t - t.mean(dim=(1, 2, 3), keepdim=True)  # exposure is in the statistics; this sees content
        return self.net(t).mean(dim=(2, 3))


class GlobalContext(nn.Module):
    """Modulate bottleneck features by image-wide statistics (FiLM): ``y * (1 + scale) + shift``.

    A 1/4-resolution U-Net sees only a few hundred pixels around each output, but how much to
    brighten depends on the whole scene's exposure. Starts as the identity (last layer zero).
    """

    def __init__(self, channels: int, stats: int = N_STATS, hidden: int = 64, thumb: int = 0):
        super().__init__()
        self.stats = stats
        self.mlp = nn.Sequential(nn.Linear(stats, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, 2 * channels))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        self.encoder = ThumbnailEncoder(thumb) if thumb else None
        if thumb:  # a separate, zero-initialised path: adding it leaves a trained model unchanged
            self.thumb_head = nn.Linear(THUMB_FEATURES, 2 * channels)
            nn.init.zeros_(self.thumb_head.weight)
            nn.init.zeros_(self.thumb_head.bias)

    def forward(self, y: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        film = self.mlp(stats[:, : self.stats])
        if self.encoder is not None:
            film = film + self.thumb_head(self.encoder(stats[:, self.stats:]))
        scale, shift = film[:, :, None, None].chunk(2, dim=1)
        return y * (1 + scale) + shift


class ResBlock(nn.Module):
    """x + conv3x3(LeakyReLU(conv3x3(x)))."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.1))


@register_model("gain-unet", "the previous default: 1/4-res U-Net, whole-image exposure + thumbnail cues, per-pixel gain + residual",
                width=28, factor=4, blocks=(1, 2, 2), init_gain=4.0, context=True, thumb=0)
class GainUNet(EnhancementNet):
    """Input and output ``(B, 3, H, W)`` in [0, 1] (output unclamped); any size (padded, cropped back).

    ``width`` channels at the first level (doubling per level), ``factor`` the pixel-unshuffle
    factor, ``blocks`` residual blocks per encoder level, ``init_gain`` the gain at initialisation, ``context`` conditions the bottleneck on whole-image
    exposure statistics (:func:`image_statistics`), ``thumb`` > 0 also on a learned encoding of a
    ``thumb``-pixel thumbnail of the whole image (:func:`image_descriptor`).
    """

    def __init__(self, width: int = 28, factor: int = 4, blocks: tuple = (1, 2, 2), init_gain: float = 4.0,
                 context: bool = True, thumb: int = 0):
        super().__init__()
        if thumb and not context:
            raise LowlightError("gain-unet: thumb needs context=True (the thumbnail feeds the context branch)")
        chans = [width * 2 ** i for i in range(len(blocks))]
        self.factor = factor
        self.multiple = factor * 2 ** (len(blocks) - 1)
        self.stem = nn.Conv2d(3 * factor * factor, chans[0], 3, padding=1)
        self.encoders = nn.ModuleList(nn.Sequential(*[ResBlock(c) for _ in range(n)]) for c, n in zip(chans, blocks))
        self.downs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 2, stride=2) for i in range(len(chans) - 1))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2)
                                 for i in reversed(range(len(chans) - 1)))
        self.decoders = nn.ModuleList(ResBlock(chans[i]) for i in reversed(range(len(chans) - 1)))
        self.thumb, self.uses_context = thumb, context
        self.context = GlobalContext(chans[-1], thumb=self.thumb) if context else None
        self.head = nn.Conv2d(chans[0], 3 + 3 * factor * factor, 3, padding=1)
        with torch.no_grad():  # start as a plain brightening by init_gain, no residual
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[:3].fill_(math.log(init_gain))

    def context_stats(self, x: torch.Tensor) -> torch.Tensor | None:
        """What :meth:`forward` conditions on, from the whole image (None without ``context``)."""
        if self.context is None:
            return None
        return image_descriptor(x, self.thumb) if self.thumb else image_statistics(x)

    def forward_padded(self, x: torch.Tensor, stats: torch.Tensor | None) -> torch.Tensor:
        """The network on an input whose sides are multiples of :attr:`multiple` (what ONNX exports)."""
        y = self.stem(F.pixel_unshuffle(x, self.factor))
        bottleneck = (lambda f: self.context(f, stats)) if self.context is not None else None
        y = unet_pass(y, self.encoders, self.downs, self.ups, self.decoders, bottleneck)
        h = self.head(y)
        log_gain = h[:, :3].clamp(-4.0, 5.0)  # gains within [0.02, 148]: an unbounded exp can overflow
        gain = F.interpolate(torch.exp(log_gain), scale_factor=self.factor, mode="bilinear", align_corners=False)
        residual = F.pixel_shuffle(h[:, 3:], self.factor)
        return x * gain + residual
