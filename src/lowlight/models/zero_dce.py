"""Zero-DCE and Zero-DCE++: light-enhancement curves estimated per pixel, applied eight times.

Zero-DCE (Guo et al., "Zero-Reference Deep Curve Estimation for Low-Light Image Enhancement",
CVPR 2020): a 7-layer, 32-channel network with mirrored skip connections (layer 5 sees layers 3
and 4, layer 6 sees 2 and 5, layer 7 sees 1 and 6) estimates 8 maps of per-pixel, per-channel
curve parameters ``r`` in [-1, 1] (tanh); the image goes through the quadratic curve
``x + r (x^2 - x)`` once per map (the paper's ``LE(x) = x + a x (1 - x)`` with ``a = -r``). Zero-DCE++ (Li, Guo, Loy, TPAMI 2021) makes each layer depthwise-separable, runs
the network on a copy downscaled by ``scale`` (bilinear) and upsamples its single curve map
(bilinear, corners aligned), which is then applied eight times.

The parameter names follow the authors' published files (``e_conv1`` to ``e_conv7``; Zero-DCE++
as ``depth_conv`` and ``point_conv``), so those files load unchanged
(``--model zero-dce --weights Epoch99.pth``). Their licence (CC BY-NC 4.0) is the authors':
the weights are never bundled.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import EnhancementNet
from .registry import register_model

WIDTH = 32
ITERATIONS = 8


class SeparableConv(nn.Module):
    """A 3x3 depthwise convolution followed by a 1x1 pointwise one (Zero-DCE++'s layers)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.depth_conv = nn.Conv2d(cin, cin, 3, padding=1, groups=cin)
        self.point_conv = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.point_conv(self.depth_conv(x))


def _curve_maps(layers, x: torch.Tensor) -> torch.Tensor:
    """The 7-layer curve-parameter network with mirrored skips; tanh output."""
    c1, c2, c3, c4, c5, c6, c7 = layers
    x1 = F.relu(c1(x))
    x2 = F.relu(c2(x1))
    x3 = F.relu(c3(x2))
    x4 = F.relu(c4(x3))
    x5 = F.relu(c5(torch.cat([x3, x4], 1)))
    x6 = F.relu(c6(torch.cat([x2, x5], 1)))
    return torch.tanh(c7(torch.cat([x1, x6], 1)))


def apply_curves(x: torch.Tensor, maps: list[torch.Tensor]) -> torch.Tensor:
    """``x <- x + r (x^2 - x)`` for each curve map ``r`` in turn (``(B, 3, H, W)`` each)."""
    for r in maps:
        x = x + r * (x * x - x)
    return x


@register_model("zero-dce", "Zero-DCE (Guo et al., CVPR 2020): 8 per-pixel quadratic curves; a peer, "
                "loads the authors' weights", expects="Epoch99.pth (Li-Chongyi/Zero-DCE, CC BY-NC 4.0)")
class ZeroDCE(EnhancementNet):
    """Input and output ``(B, 3, H, W)`` in [0, 1], any size (the network is fully convolutional)."""

    def __init__(self):
        super().__init__()
        w = WIDTH
        self.e_conv1 = nn.Conv2d(3, w, 3, padding=1)
        self.e_conv2 = nn.Conv2d(w, w, 3, padding=1)
        self.e_conv3 = nn.Conv2d(w, w, 3, padding=1)
        self.e_conv4 = nn.Conv2d(w, w, 3, padding=1)
        self.e_conv5 = nn.Conv2d(2 * w, w, 3, padding=1)
        self.e_conv6 = nn.Conv2d(2 * w, w, 3, padding=1)
        self.e_conv7 = nn.Conv2d(2 * w, 3 * ITERATIONS, 3, padding=1)

    def forward_padded(self, x: torch.Tensor, stats=None) -> torch.Tensor:
        layers = [getattr(self, f"e_conv{i}") for i in range(1, 8)]
        maps = _curve_maps(layers, x)
        return apply_curves(x, list(torch.split(maps, 3, dim=1)))


@register_model("zero-dce++", "Zero-DCE++ (Li et al., TPAMI 2021): one curve map from a downscaled copy, "
                "applied 8 times; a peer, loads the authors' weights", scale=12,
                expects="Epoch99.pth (Li-Chongyi/Zero-DCE_extension, Zero-DCE++/snapshots_Zero_DCE++, CC BY-NC 4.0)")
class ZeroDCEPlusPlus(EnhancementNet):
    """Input and output ``(B, 3, H, W)`` in [0, 1]. ``scale``: the curve map is estimated on a
    copy downscaled this many times (the authors' test uses 12); sides are padded to multiples
    of it (by reflection) and cropped back."""

    def __init__(self, scale: int = 12):
        super().__init__()
        self.scale = int(scale)
        self.multiple = max(1, self.scale)
        w = WIDTH
        self.e_conv1 = SeparableConv(3, w)
        self.e_conv2 = SeparableConv(w, w)
        self.e_conv3 = SeparableConv(w, w)
        self.e_conv4 = SeparableConv(w, w)
        self.e_conv5 = SeparableConv(2 * w, w)
        self.e_conv6 = SeparableConv(2 * w, w)
        self.e_conv7 = SeparableConv(2 * w, 3)

    def forward_padded(self, x: torch.Tensor, stats=None) -> torch.Tensor:
        layers = [getattr(self, f"e_conv{i}") for i in range(1, 8)]
        small = x if self.scale == 1 else F.interpolate(x, scale_factor=1 / self.scale, mode="bilinear",
                                                        align_corners=False)
        r = _curve_maps(layers, small)
        if self.scale != 1:
            r = F.interpolate(r, size=x.shape[-2:], mode="bilinear", align_corners=True)
        return apply_curves(x, [r] * ITERATIONS)
