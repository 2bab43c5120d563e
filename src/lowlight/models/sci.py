"""SCI: self-calibrated illumination (Ma, Ma, Liu, Fan, Luo, "Toward Fast, Flexible, and Robust
Low-Light Image Enhancement", CVPR 2022).

At test time only the illumination stage runs: a 3x3 convolution with ReLU, a residual
convolution-batch-norm-ReLU block (the same block, reused ``layers`` times), a 3x3 convolution
with a sigmoid; the illumination is that plus the input, clamped to [1e-4, 1], and the result is
the input divided by it (Retinex), clamped to [0, 1]. The self-calibration module is used only
in training; its weights in the authors' files are ignored.

Parameter names follow the authors' files (``enhance.in_conv``, ``enhance.conv``,
``enhance.blocks``, ``enhance.out_conv``), which load unchanged (``--model sci --weights
medium.pt``; MIT licence). Their blocks share one module, so its weights appear under both
``conv`` and ``blocks.N``; here too.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .base import EnhancementNet
from .registry import register_model


class Illumination(nn.Module):
    """The illumination estimator: ``(B, 3, H, W)`` in [0, 1] to the illumination, same shape."""

    def __init__(self, layers: int = 1, channels: int = 3):
        super().__init__()
        self.in_conv = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.ReLU())
        self.conv = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU())
        self.blocks = nn.ModuleList([self.conv] * layers)  # one block, reused: the paper's weight sharing
        self.out_conv = nn.Sequential(nn.Conv2d(channels, 3, 3, padding=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.in_conv(x)
        for block in self.blocks:
            f = f + block(f)
        return (self.out_conv(f) + x).clamp(1e-4, 1.0)


@register_model("sci", "SCI (Ma et al., CVPR 2022): a tiny illumination estimator, Retinex division; a peer, "
                "loads the authors' weights", layers=1, channels=3,
                expects="easy.pt, medium.pt or difficult.pt (vis-opt-group/SCI weights/, MIT)")
class SCI(EnhancementNet):
    """Input and output ``(B, 3, H, W)`` in [0, 1], any size."""

    #: Parts of the authors' files that only training uses.
    ignored_prefixes = ("calibrate.",)

    def __init__(self, layers: int = 1, channels: int = 3):
        super().__init__()
        self.enhance = Illumination(layers, channels)

    def forward_padded(self, x: torch.Tensor, stats=None) -> torch.Tensor:
        return (x / self.enhance(x)).clamp(0.0, 1.0)
