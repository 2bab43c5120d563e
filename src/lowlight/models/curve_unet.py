"""CurveUNet: local tone curves and an edge-aware denoiser, predicted at 1/4 resolution.

The image is folded into channels (pixel-unshuffle by ``factor``) and a small three-level U-Net
runs there; its head predicts, per location, a monotone tone curve and the strengths of a
bilateral filter, both upsampled bilinearly to full resolution. Then, per pixel:

1. ``z = bilateral(x)``: a 5x5 (and a dilated 5x5) edge-aware average, weights from the
   distance and the difference in ``sqrt(luma)`` (where shot noise has about constant spread);
2. ``v = max(z_r, z_g, z_b)`` and ``gain = min(max(curve(v), v), 1 - (1 - v) / 2) / v``, the
   same for the three channels, with ``curve`` a piecewise-linear map of [0, 1] onto [0, 1]: never
   darker, and at least half the contrast kept next to white, so highlights are not flattened;
3. a global colour correction: a learned share (0 to 1, from whole-image statistics) of the
   image's own grey-world cast is removed, applied only as far as the pixel is brightened
   (dark frames carry the cast of their light and sensor, good photos keep theirs), then a
   hue-preserving limit so no channel passes 1.

What that buys, by construction rather than by training: a flat input gives a flat output (no
pixel-shuffle, no transposed convolution, replicate padding: nothing periodic), a neutral grey
stays neutral (it has no cast to remove), no pixel gets darker, and no pixel below white is
pushed to clipping (the curve ends at 1 and is applied to the largest channel), so highlights and
skies keep their detail (a pixel reaches white only if it was within 2/255 of it) and bright
lamps get no dark halo. The weights decide only how much to
brighten where, and how much to smooth.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import crop_to, pad_to_multiple
from .gain_unet import GlobalContext, image_descriptor, image_statistics
from .registry import register_model

LUMA = (0.299, 0.587, 0.114)
TOP_SLOPE = 0.5  #: the least slope of the tone curve, as a bound ``1 - TOP_SLOPE * (1 - v)``


def curve_knots(knots: int) -> torch.Tensor:
    """Knot positions ``(k / K) ** 2``, k = 0..K: dense in the shadows, where gains are large."""
    return (torch.arange(knots + 1, dtype=torch.float32) / knots) ** 2


def tone_curve(v: torch.Tensor, logits: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """A monotone piecewise-linear curve from (0, 0) to (1, 1) evaluated at ``v`` ``(B, 1, H, W)``.

    ``logits`` ``(B, K, H, W)``: the softmax gives each of the K segments its share of the rise.
    """
    k = logits.shape[1]
    rise = torch.softmax(logits, dim=1)
    lo = knots[:-1].view(1, k, 1, 1)
    width = (knots[1:] - knots[:-1]).view(1, k, 1, 1)
    return (rise * ((v - lo) / width).clamp(0.0, 1.0)).sum(dim=1, keepdim=True)


def identity_logits(knots: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Logits ``(K,)`` whose :func:`tone_curve` is ``v ** (1 / gamma)`` at the knots."""
    f = knots ** (1.0 / gamma)
    return torch.log((f[1:] - f[:-1]).clamp_min(1e-6))


def bilateral(x: torch.Tensor, guide: torch.Tensor, spatial: torch.Tensor, range_: torch.Tensor,
              radius: int = 2, dilation: int = 1) -> torch.Tensor:
    """Edge-aware average of ``x`` ``(B, C, H, W)`` over a ``(2r+1)^2`` window (taps ``dilation`` apart).

    Weight of a tap at offset d: ``exp(-spatial * |d|^2 - range_ * (guide_d - guide)^2)``, with
    per-pixel ``spatial`` and ``range_`` ``(B, 1, H, W)`` >= 0; the weights are normalised, so a
    flat area stays exactly flat. Borders are replicated.
    """
    p = radius * dilation
    h, w = x.shape[-2:]
    xp = F.pad(x, (p, p, p, p), mode="replicate")
    gp = F.pad(guide, (p, p, p, p), mode="replicate")
    num = torch.zeros_like(x)
    den = torch.zeros_like(guide)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            oy, ox = p + dy * dilation, p + dx * dilation
            g = gp[..., oy:oy + h, ox:ox + w]
            wt = torch.exp(-spatial * float(dy * dy + dx * dx) - range_ * (g - guide) ** 2)
            num = num + wt * xp[..., oy:oy + h, ox:ox + w]
            den = den + wt
    return num / den


class Block(nn.Module):
    """x + conv3x3(LeakyReLU(conv3x3(x))), replicate padding (a flat map stays flat at the border)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="replicate")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.1))


class Up(nn.Module):
    """Bilinear 2x upsampling then a 3x3 convolution: no transposed convolution, no checkerboard."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, padding_mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


@register_model("curve-unet", "the default: local tone curves on max(RGB) + edge-aware denoising, "
                "predicted at 1/4 resolution from the image and its whole-image statistics",
                width=24, factor=4, blocks=(1, 2, 2), knots=16, thumb=64, colour=0.25)
class CurveUNet(nn.Module):
    """Input and output ``(B, 3, H, W)`` in [0, 1]; any size (padded, cropped back).

    ``width`` channels at the first level (doubling per level), ``factor`` the pixel-unshuffle
    factor, ``blocks`` residual blocks per level, ``knots`` segments of each tone curve,
    ``thumb`` the whole-image thumbnail side the context sees (0: statistics only), ``colour``
    the largest global colour correction (log-gain per channel; 0 turns it off).
    """

    def __init__(self, width: int = 24, factor: int = 4, blocks: tuple = (1, 2, 2), knots: int = 16,
                 thumb: int = 64, colour: float = 0.25):
        super().__init__()
        chans = [width * 2 ** i for i in range(len(blocks))]
        self.factor, self.thumb, self.colour_max = factor, thumb, colour
        self.multiple = factor * 2 ** (len(blocks) - 1)
        self.register_buffer("knots", curve_knots(knots), persistent=False)
        self.stem = nn.Conv2d(3 * factor * factor, chans[0], 3, padding=1, padding_mode="replicate")
        self.encoders = nn.ModuleList(nn.Sequential(*[Block(c) for _ in range(n)]) for c, n in zip(chans, blocks))
        self.downs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 2, stride=2) for i in range(len(chans) - 1))
        self.ups = nn.ModuleList(Up(chans[i + 1], chans[i]) for i in reversed(range(len(chans) - 1)))
        self.decoders = nn.ModuleList(Block(chans[i]) for i in reversed(range(len(chans) - 1)))
        self.context = GlobalContext(chans[-1], thumb=thumb)
        self.colour = nn.Sequential(nn.Linear(8, 32), nn.LeakyReLU(0.1), nn.Linear(32, 1))
        self.head = nn.Conv2d(chans[0], knots + 4, 3, padding=1, padding_mode="replicate")
        with torch.no_grad():  # start as a gamma-2.2 brightening with mild smoothing, neutral colour
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[:knots].copy_(identity_logits(curve_knots(knots), 2.2))
            self.head.bias[knots:].copy_(torch.tensor([0.0, 6.0, 1.0, 6.0]))
            nn.init.zeros_(self.colour[-1].weight)
            self.colour[-1].bias.fill_(-2.0)  # remove about 12% of the cast at first

    def context_stats(self, x: torch.Tensor) -> torch.Tensor:
        """What :meth:`forward` conditions on, from the whole image (tiles share it)."""
        return image_descriptor(x, self.thumb) if self.thumb else image_statistics(x)

    def forward(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        """``stats``: :meth:`context_stats` of the full image when ``x`` is one tile of it."""
        if stats is None:
            stats = self.context_stats(x)
        x, size = pad_to_multiple(x, self.multiple)
        return crop_to(self.forward_padded(x, stats), size)

    def forward_padded(self, x: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        """The network on an input whose sides are multiples of :attr:`multiple` (what ONNX exports)."""
        y = self.stem(F.pixel_unshuffle(x, self.factor))
        skips = []
        for i, enc in enumerate(self.encoders):
            y = enc(y if i == 0 else self.downs[i - 1](y))
            skips.append(y)
        skips.pop()
        y = self.context(y, stats)
        for up, dec in zip(self.ups, self.decoders):
            y = dec(up(y) + skips.pop())
        h = F.interpolate(self.head(y), scale_factor=self.factor, mode="bilinear", align_corners=False)
        k = self.knots.numel() - 1
        logits, (s1, r1, s2, r2) = h[:, :k], h[:, k:].clamp(-4.0, 12.0).exp().unbind(1)

        luma = LUMA[0] * x[:, :1] + LUMA[1] * x[:, 1:2] + LUMA[2] * x[:, 2:3]
        guide = torch.sqrt(luma.clamp_min(0.0) + 1e-4)
        z = bilateral(x, guide, s1[:, None], r1[:, None], dilation=1)
        z = bilateral(z, guide, s2[:, None], r2[:, None], dilation=2)

        v = z.amax(dim=1, keepdim=True).clamp(0.0, 1.0)
        lifted = torch.minimum(torch.maximum(tone_curve(v, logits, self.knots), v), 1.0 - TOP_SLOPE * (1.0 - v))
        gain = lifted / v.clamp_min(1e-4)
        out = z * gain
        if self.colour_max:
            log_mean = torch.log(stats[:, :3] + 1e-3)  # whole-image mean R, G, B
            cast = log_mean - log_mean.mean(dim=1, keepdim=True)
            share = torch.sigmoid(self.colour(stats[:, :8]))  # (B, 1): how much of the cast to remove
            log_c = (-share * cast).clamp(-self.colour_max, self.colour_max)  # (B, 3)
            reach = (torch.log(gain.clamp_min(1.0)) / math.log(4.0)).clamp(0.0, 1.0)
            col = torch.exp(log_c[:, :, None, None] * reach)
            col = col / (LUMA[0] * col[:, :1] + LUMA[1] * col[:, 1:2] + LUMA[2] * col[:, 2:3])
            out = out * col
        return out / out.amax(dim=1, keepdim=True).clamp_min(1.0)
