"""CurveUNet: local tone curves and an edge-aware denoiser, predicted at 1/4 resolution.

The image is folded into channels (pixel-unshuffle by ``factor``) and a small three-level U-Net
runs there; its head predicts, per location, a monotone tone curve and the strengths of a
bilateral filter, both upsampled bilinearly to full resolution. Then, per pixel:

1. ``z``: a per-pixel share of a 5x5 (then a dilated 5x5) edge-aware average, weights from the
   distance and the difference in ``sqrt(luma)`` (where shot noise has about constant spread);
2. ``v = max(z_r, z_g, z_b)`` and ``gain = min(curve(v), 1 - top_slope * (1 - v)) / v``, the
   same for the three channels, with ``curve`` a concave piecewise-linear map of [0, 1] onto
   [0, 1] (so at or above the identity: never darker), and at least ``top_slope`` of the contrast
   kept next to white, so highlights are not flattened into white;
3. a global colour correction: a learned share (0 to 1, from whole-image statistics) of the
   image's own grey-world cast is removed, applied only as far as the pixel is brightened
   (dark frames carry the cast of their light and sensor, good photos keep theirs), then a
   hue-preserving limit so no channel passes 1.

With ``exposure`` (off in the shipped weights; docs/MODEL.md says why), how much to brighten the
whole image is explicit: the U-Net's bottleneck is conditioned on a target, the log of the output's mean luma over the input's. In training the
target is the reference's own, so the network learns to follow it; a small predictor learns to
guess it from the whole-image context (statistics, noise level, thumbnail), and that guess is used
unless a caller sets the target (``lowlight enhance --brightness``).

With ``shadows`` (the very-dark stage, :func:`shadow_stage`), three more fields act where the
input is near black, the part of a night photo that is sensor noise and JPEG chroma rather than
scene: a denoiser at 1/4 resolution with a wide reach (luma and chroma mixed in apart, chroma
more freely, and only where the pixel agrees with its smoothed neighbourhood, so edges are
kept), a toe that withholds the lift below a learned black level (a concave curve is steepest
at zero, so without it the noise floor gets the largest gain), and a desaturation of what stays
near black (colour ratios of near-black pixels are noise, not the scene's colour). Each starts
as (nearly) a no-op, so the stage fine-tunes from weights trained without it; none can darken,
tint a grey, or break a flat area.

With ``night`` (on in the shipped weights, whose very-dark stage is set, not learned:
:data:`NIGHT_FIELDS`), the stage acts only on a night: a frame whose brightest content reaches
white (lamps, a lit subject: the exposure was set for them, so what is dark is dark in the scene)
rather than one under-exposed as a whole (:func:`night_weight`), and only as far as the tone
curve lifts a pixel. ``night_cap`` also limits how far a night with black in it (a deep sky,
unlit ground: :func:`black_weight`) is lifted, so its darkest tones stay dark rather than
becoming a haze.

With ``headroom``, the bottleneck also sees two cues that tell an under-exposed frame from one
that is dark on purpose (:func:`headroom_cues`): how far its brightest content stays from white
(a frame cut 4x has nothing near white; a low-key photo has its highlights) and how noisy it is.

What that buys, by construction rather than by training: a flat input gives a flat output (no
pixel-shuffle, no transposed convolution, replicate padding: nothing periodic), a neutral grey
stays neutral (it has no cast to remove), no pixel gets darker, and no pixel below white is
pushed to clipping (the curve ends at 1 and is applied to the largest channel), so highlights and
skies keep their detail (with ``top_slope`` 0.2, a pixel reaches white only if it was within
about 1/255 of it) and bright lamps get no dark halo. The weights decide only how much to
brighten where, and how much to smooth.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..color import luma
from .base import EnhancementNet
from .common import unet_pass
from .gain_unet import N_STATS, THUMB_FEATURES, GlobalContext, ThumbnailEncoder, image_descriptor, image_statistics
from .registry import register_model

SPATIAL = 0.5    #: the denoiser's spatial weight ``exp(-SPATIAL * |d|^2)``: sigma of one tap
#: What ``exposure`` models append to the context: the noise level, a flag and a target
#: (log of the output's mean luma over the input's); flag 0 means "the model's own guess".
EXPOSURE_SLOTS = 3
#: What ``headroom`` models append to the context (before any exposure slots): the log of the
#: 90th and 99th percentiles of the brightest channel, max-pooled to 64x64, and the noise level.
HEADROOM_SLOTS = 3
CUE_SIDE = 64
#: ``night`` models: the 90th percentile of the 64x64 max-pooled brightest channel at which a
#: frame starts to count as a night (exposed for its lights) and at which it fully does. LOL-v1's
#: dark inputs sit under the first (our485: median 0.15, 90% under 0.21; nothing comes near
#: white, the whole frame is under-exposed); night photos with lamps or a lit subject above it.
NIGHT_LO, NIGHT_HI = 0.25, 0.45
#: The same for the 99th percentile: a few lamps in a wide dark view (one lit monument over a
#: lake) also set the exposure. our485: median 0.20, 90% under 0.50.
LAMPS_LO, LAMPS_HI = 0.6, 0.8
#: ``night_cap`` models: a frame has black in it as far as the share of its 8x8 cells whose mean
#: brightest channel is under 3/255 (values of 0-3 in an 8-bit dark frame: no scene to lift) goes
#: from the first share to the second. In ../shared's real-lowlight, nights with a sky, unlit
#: ground or a black backdrop have 0.12-0.57 (DICM 03, 13, 25, 27); dark rooms lit by a lamp little
#: (LIME 1 and 9: 0). So do the rooms of LOL-v1's our485 that count as nights for a lit clock or
#: lamp (747: 0.014, 760: 0.023), whose references light every shadow. Printed per photo by
#: bench/tone_map.py, per LOL pair by bench/night_frames.py.
BLACK_LEVEL, BLACK_CELL = 3 / 255, 8
BLACK_LO, BLACK_HI = 0.02, 0.10


def noise_level(x: torch.Tensor) -> torch.Tensor:
    """``(B, 1)``: log of the median absolute 3x3 high-pass of ``sqrt(luma)`` over the whole image.

    Shot noise has about constant spread in ``sqrt(luma)``, so this reads how noisy the frame is
    at any brightness: an under-exposed frame is grainy where a low-key photo, dark on purpose,
    is clean, a cue its thumbnail (noise averaged away) and its statistics do not carry.
    """
    g = torch.sqrt(luma(x.float(), axis=1).unsqueeze(1).clamp_min(0.0) + 1e-4)
    hp = g - F.avg_pool2d(F.pad(g, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return torch.log(hp.abs().flatten(1).median(dim=1).values + 1e-4).unsqueeze(1)


def headroom_cues(x: torch.Tensor) -> torch.Tensor:
    """``(B, 3)``: where the image's brightest content sits (log of the 90th and 99th percentiles
    of max(R, G, B), max-pooled to 64x64 so a few bright pixels per cell count) and its
    :func:`noise_level`. A frame exposed for a tenth of the light has its highlights near a tenth
    of white and is grainy; a photo that is dark on purpose reaches white and is clean."""
    peak = F.adaptive_max_pool2d(x.float().amax(dim=1, keepdim=True), (CUE_SIDE, CUE_SIDE)).flatten(1)
    q = torch.quantile(peak.clamp(0.0, 1.0), torch.tensor([0.9, 0.99], device=x.device), dim=1).T
    return torch.cat([torch.log(q + 1e-3), noise_level(x)], dim=1)


def night_weight(x: torch.Tensor) -> torch.Tensor:
    """``(B, 1)`` in [0, 1]: how far a dark frame is a night exposed for its lights rather than a
    scene under-exposed as a whole. A tenth of the frame's 64x64 cells reaching near white (lamps,
    a lit building, a lit subject) says the exposure was set for them, so what is dark is dark in
    the scene and stays dark; so do a few lamps in a wide dark view (a hundredth of the cells); a
    frame whose brightest cells stay far from white was cut as a whole and its shadows hold content
    to lift. The larger of two ramps: the 90th percentile of the cells' peaks from
    :data:`NIGHT_LO` to :data:`NIGHT_HI`, the 99th from :data:`LAMPS_LO` to :data:`LAMPS_HI`."""
    peak = F.adaptive_max_pool2d(x.float().amax(dim=1, keepdim=True), (CUE_SIDE, CUE_SIDE)).flatten(1)
    q = torch.quantile(peak.clamp(0.0, 1.0), torch.tensor([0.9, 0.99], device=x.device), dim=1).T
    wide = (q[:, :1] - NIGHT_LO) / (NIGHT_HI - NIGHT_LO)
    lamps = (q[:, 1:] - LAMPS_LO) / (LAMPS_HI - LAMPS_LO)
    return torch.maximum(wide, lamps).clamp(0.0, 1.0)


def black_share(x: torch.Tensor) -> torch.Tensor:
    """``(B, 1)``: the share of a frame's 8x8 cells whose mean brightest channel is under
    :data:`BLACK_LEVEL` (areas the scene keeps black: a night sky, unlit ground, a backdrop)."""
    cells = F.avg_pool2d(x.float().amax(dim=1, keepdim=True), BLACK_CELL, ceil_mode=True)
    return (cells < BLACK_LEVEL).float().flatten(1).mean(dim=1, keepdim=True)


def black_weight(x: torch.Tensor) -> torch.Tensor:
    """``(B, 1)`` in [0, 1]: how far a frame has black in it, its :func:`black_share` ramped from
    :data:`BLACK_LO` to :data:`BLACK_HI`. A frame under-exposed as a whole, with a lit clock or
    lamp in it, has little."""
    return ((black_share(x) - BLACK_LO) / (BLACK_HI - BLACK_LO)).clamp(0.0, 1.0)


def log_mean_luma(x: torch.Tensor) -> torch.Tensor:
    """``(B, 1)``: log of each image's mean luma (what the exposure target is measured in)."""
    return torch.log(luma(x.float(), axis=1).mean(dim=(1, 2)) + 1e-3).unsqueeze(1)


class ExposurePredictor(nn.Module):
    """How much to brighten a whole image: ``log(mean luma out / mean luma in)`` >= 0, from its
    statistics, its noise level and its thumbnail's content (what kind of scene, how bright its
    reference should be). Trained on its own loss against the references' brightness."""

    def __init__(self, thumb: int, hidden: int = 64):
        super().__init__()
        self.encoder = ThumbnailEncoder(thumb)
        self.mlp = nn.Sequential(nn.Linear(N_STATS + 1 + THUMB_FEATURES, hidden), nn.LeakyReLU(0.1),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, 1))
        with torch.no_grad():
            self.mlp[-1].bias.fill_(1.0)

    def forward(self, descriptor: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        f = torch.cat([descriptor[:, :N_STATS], noise, self.encoder(descriptor[:, N_STATS:])], dim=1)
        return F.softplus(self.mlp(f))


class ExposureFiLM(nn.Module):
    """Modulate bottleneck features by a few numbers (FiLM): the exposure target, or the
    :func:`headroom_cues`; starts as the identity, so adding it leaves a trained model unchanged."""

    def __init__(self, channels: int, hidden: int = 32, inputs: int = 1):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(inputs, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, 2 * channels))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        scale, shift = self.mlp(target)[:, :, None, None].chunk(2, dim=1)
        return y * (1 + scale) + shift


def curve_knots(knots: int) -> torch.Tensor:
    """Knot positions ``(k / K) ** 2``, k = 0..K: dense in the shadows, where gains are large."""
    return (torch.arange(knots + 1, dtype=torch.float32) / knots) ** 2


def tone_curve(v: torch.Tensor, params: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """A concave piecewise-linear curve from (0, 0) to (1, 1) evaluated at ``v`` ``(B, 1, H, W)``.

    ``params`` ``(B, K, H, W)``: segment k's slope is ``exp(-sum_{j<=k} softplus(params_j))``
    before normalising the rise to 1, so slopes only fall from the shadows to the highlights.
    A concave curve through both ends never lies below the identity: it brightens or keeps,
    never darkens, and every parameter keeps its gradient (a clamp to the identity would not).
    """
    k = params.shape[1]
    width = (knots[1:] - knots[:-1]).view(1, k, 1, 1)
    log_slope = -torch.cumsum(F.softplus(params), dim=1)
    log_slope = log_slope - log_slope.amax(dim=1, keepdim=True)  # scale-free: keeps exp in range
    rise = torch.exp(log_slope) * width
    rise = rise / rise.sum(dim=1, keepdim=True)
    lo = knots[:-1].view(1, k, 1, 1)
    return (rise * ((v - lo) / width).clamp(0.0, 1.0)).sum(dim=1, keepdim=True)


def knot_values(params: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """The curve of :func:`tone_curve` as its values at the ``K + 1`` knots ``(B, K + 1, h, w)``.

    Any convex mix of such value maps (a bilinear upsampling) is again a concave, rising curve
    from 0 to 1 on the same knots, so the curve can be built at low resolution and only looked
    up at full resolution (:func:`lookup_curve`), which is several times cheaper.
    """
    k = params.shape[1]
    width = (knots[1:] - knots[:-1]).view(1, k, 1, 1)
    log_slope = -torch.cumsum(F.softplus(params), dim=1)
    log_slope = log_slope - log_slope.amax(dim=1, keepdim=True)
    rise = torch.exp(log_slope) * width
    rise = rise / rise.sum(dim=1, keepdim=True)
    return F.pad(torch.cumsum(rise, dim=1), (0, 0, 0, 0, 1, 0))


def lookup_curve(v: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Evaluate per pixel the piecewise-linear curve with ``values`` ``(B, K + 1, H, W)`` at the
    knots ``(k / K) ** 2`` (:func:`curve_knots`), at ``v`` ``(B, 1, H, W)`` in [0, 1]."""
    k = values.shape[1] - 1
    seg = (v.detach().clamp(0.0, 1.0).sqrt() * k).floor().clamp(0, k - 1)  # detached: sqrt' is inf at 0
    lo, hi = (seg / k) ** 2, ((seg + 1) / k) ** 2
    t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    index = seg.long()
    y0, y1 = values.gather(1, index), values.gather(1, index + 1)
    return y0 + t * (y1 - y0)


def curve_params(knots: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Parameters ``(K,)`` whose :func:`tone_curve` follows ``v ** (1 / gamma)`` between the knots
    (``gamma`` >= 1, a concave curve; 1 gives nearly the identity)."""
    f = knots ** (1.0 / gamma)
    slope = (f[1:] - f[:-1]) / (knots[1:] - knots[:-1])
    drops = torch.log(slope[:-1] / slope[1:]).clamp_min(1e-4)
    drops = torch.cat([torch.full((1,), 1e-4), drops])
    return torch.log(torch.expm1(drops))  # inverse softplus


def bilateral(x: torch.Tensor, guide: torch.Tensor, spatial, range_: torch.Tensor,
              radius: int = 2, dilation: int = 1) -> torch.Tensor:
    """Edge-aware average of ``x`` ``(B, C, H, W)`` over a ``(2r+1)^2`` window (taps ``dilation`` apart).

    Weight of a tap at offset d: ``exp(-spatial * |d|^2 - range_ * (guide_d - guide)^2)``, with
    ``spatial`` a number or per-pixel and ``range_`` per-pixel ``(B, 1, H, W)``, both >= 0; the
    weights are normalised, so a flat area stays exactly flat. Borders are replicated.
    """
    if isinstance(spatial, (int, float)) and not torch.is_grad_enabled() and not torch.onnx.is_in_onnx_export():
        return _bilateral_inference(x, guide, float(spatial), range_, radius, dilation)
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
            wt = torch.exp(-(spatial * float(dy * dy + dx * dx) + range_ * (g - guide) ** 2).clamp(max=60.0))
            num = num + wt * xp[..., oy:oy + h, ox:ox + w]
            den = den + wt
    return num / den


def _bilateral_inference(x: torch.Tensor, guide: torch.Tensor, spatial: float, range_: torch.Tensor,
                         radius: int, dilation: int) -> torch.Tensor:
    """:func:`bilateral` without autograd, for a constant ``spatial``: the same sum in fewer,
    in-place passes over memory (the spatial factor is a number per tap, the centre tap's weight
    is 1 and starts the sums), which is what most of a large photo's time goes to."""
    p = radius * dilation
    h, w = x.shape[-2:]
    xp = F.pad(x, (p, p, p, p), mode="replicate")
    gp = F.pad(guide, (p, p, p, p), mode="replicate")
    num = x.clone()
    den = torch.ones_like(guide)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy == 0 and dx == 0:
                continue
            oy, ox = p + dy * dilation, p + dx * dilation
            wt = torch.sub(gp[..., oy:oy + h, ox:ox + w], guide)
            wt.mul_(wt).mul_(range_).clamp_(max=60.0).neg_().exp_()  # the floor keeps exp() off denormals
            scale = math.exp(-spatial * float(dy * dy + dx * dx))
            num.addcmul_(wt, xp[..., oy:oy + h, ox:ox + w], value=scale)
            den.add_(wt, alpha=scale)
    return num.div_(den)


#: What the ``shadows`` head predicts at 1/4 resolution, in this order.
SHADOW_FIELDS = ("coarse_range", "luma_mix", "chroma_mix", "toe", "desaturate", "desaturate_level")
TOE_MAX = 0.05     #: the toe's black level reaches at most this value of max(R, G, B)
GREY_MAX = 0.1     #: the desaturation acts at most up to about this value of max(R, G, B)


def shadow_head_init(head: nn.Conv2d) -> None:
    """Start the ``shadows`` head (nearly) as a no-op: no coarse smoothing, a toe at 1/1000 of
    white, no desaturation; zero weights, so every field starts flat but keeps its gradient."""
    with torch.no_grad():
        nn.init.zeros_(head.weight)
        head.bias.copy_(torch.tensor([0.0, -6.0, -6.0, -4.0, -6.0, 0.0]))


#: The very-dark stage of the shipped default, set rather than learned (``night`` models; why:
#: docs/MODEL.md): the fields as plain numbers, constant over the frame. The wide denoiser's
#: range weight ``exp(7 - 5 tanh(0.3))`` (softer than the fine denoiser's start, so it reaches
#: across grain), its luma and chroma shares, the toe's black level (3/255 of the largest channel:
#: values of 0-3 in an 8-bit dark frame are quantisation and noise, and lifted 20x become bands),
#: the desaturation's strength and the level under which it acts (8/255).
NIGHT_FIELDS = {"coarse_range": -1.5, "luma_mix": 0.62, "chroma_mix": 0.95, "toe": 3 / 255,
                "desaturate": 0.998, "desaturate_level": 0.03}


def set_shadow_fields(head: nn.Conv2d, fields: dict[str, float] = NIGHT_FIELDS) -> None:
    """Make the ``shadows`` head predict constant fields (zero weights, the biases that give
    ``fields``, in the units :func:`shadow_stage` reads them: the range's raw value, shares in
    (0, 1), levels in units of white)."""
    logit = lambda p: math.log(p / (1.0 - p))  # noqa: E731
    raw = [fields["coarse_range"], logit(fields["luma_mix"]), logit(fields["chroma_mix"]),
           logit(fields["toe"] / TOE_MAX), logit(fields["desaturate"]), logit(fields["desaturate_level"] / GREY_MAX)]
    with torch.no_grad():
        nn.init.zeros_(head.weight)
        head.bias.copy_(torch.tensor(raw))


def coarse_denoise(z: torch.Tensor, range_: torch.Tensor, factor: int) -> torch.Tensor:
    """``z`` ``(B, 3, H, W)`` averaged over a wide, edge-aware window: a box mean by ``factor``,
    two bilateral passes there (taps 1 and 2 apart: about 12 pixels of reach at full
    resolution for ``factor`` 4), upsampled bilinearly. ``range_`` ``(B, 1, H/f, W/f)``."""
    small = F.avg_pool2d(z, factor)
    guide = torch.sqrt(luma(small, axis=1).unsqueeze(1).clamp_min(0.0) + 1e-4)
    small = bilateral(small, guide, SPATIAL, range_, dilation=1)
    small = bilateral(small, guide, SPATIAL, range_, dilation=2)
    return F.interpolate(small, scale_factor=factor, mode="bilinear", align_corners=False)


def shadow_stage(z: torch.Tensor, fields: torch.Tensor, factor: int, reach: torch.Tensor | None = None,
                 night: torch.Tensor | None = None):
    """The very-dark stage's denoising of ``z`` ``(B, 3, H, W)`` and its toe and desaturation.

    ``fields`` ``(B, 6, H/f, W/f)``: the raw :data:`SHADOW_FIELDS`; ``reach`` ``(B, 1, H, W)`` in
    [0, 1], how far the tone curve lifts each pixel (0: kept as it is), scales the denoising and
    the desaturation, so a pixel the curve leaves alone is left alone here too; ``night``
    ``(B, 1)`` in [0, 1] (:func:`night_weight`) scales the toe and the desaturation, so a frame
    under-exposed as a whole keeps its shadows' lift and colour. Returns the denoised image
    and two functions of the largest channel ``v``: ``toe(v, lifted)``, the lifted value with
    the lift withheld below the black level (``v + (lifted - v) v^2 / (v^2 + b^2)``: still at or
    above ``v``, still rising), and ``grey(v)``, the share of chroma to keep (1 away from black).
    """
    up = lambda t: F.interpolate(t, scale_factor=factor, mode="bilinear", align_corners=False)  # noqa: E731
    range_ = torch.exp(7.0 + 5.0 * torch.tanh(fields[:, 0:1] / 5.0))
    coarse = coarse_denoise(z, range_, factor)
    f = up(fields[:, 1:])
    luma_mix, chroma_mix = torch.sigmoid(f[:, 0:1]), torch.sigmoid(f[:, 1:2])
    black = TOE_MAX * torch.sigmoid(f[:, 2:3])
    desat, grey_level = torch.sigmoid(f[:, 3:4]), GREY_MAX * torch.sigmoid(f[:, 4:5])
    y, yc = luma(z, axis=1).unsqueeze(1), luma(coarse, axis=1).unsqueeze(1)
    # Mix only where the pixel agrees with its wide neighbourhood (in sqrt(luma), where shot noise
    # has about constant spread): across an edge the coarse image is a blur, not a denoised copy.
    agree = torch.exp(-(up(range_) * (torch.sqrt(y.clamp_min(0) + 1e-4) - torch.sqrt(yc.clamp_min(0) + 1e-4)) ** 2)
                      .clamp(max=60.0))
    luma_mix, chroma_mix = luma_mix * agree, chroma_mix * agree
    if reach is not None:
        luma_mix, chroma_mix, desat = luma_mix * reach, chroma_mix * reach, desat * reach
    if night is not None:
        night = night.view(-1, 1, 1, 1)
        black, desat = black * night, desat * night
        luma_mix, chroma_mix = luma_mix * night, chroma_mix * night
    z = (z + luma_mix * (yc - y) + chroma_mix * ((coarse - yc) - (z - y))).clamp(0.0, 1.0)

    def toe(v: torch.Tensor, lifted: torch.Tensor) -> torch.Tensor:
        return v + (lifted - v) * v * v / (v * v + black * black + 1e-12)

    def grey(v: torch.Tensor) -> torch.Tensor:
        g2 = grey_level * grey_level
        return 1.0 - desat * g2 / (v * v + g2 + 1e-12)

    return z, toe, grey


def lift_reach(gain: torch.Tensor, start: float = 1.0) -> torch.Tensor:
    """How far a pixel is brightened, 0 (lifted ``start`` times or less; by default kept) to 1
    (lifted 4x more than that): ``log(gain / start) / log(4)``. The colour correction and the
    very-dark stage act only as far as this, so what the tone curve leaves alone (a well-exposed
    photo) they leave alone too."""
    return ((torch.log(gain.clamp_min(start)) - math.log(start)) / math.log(4.0)).clamp(0.0, 1.0)


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
                width=24, factor=4, blocks=(1, 2, 2), knots=16, thumb=64, colour=0.25, top_slope=0.2,
                coarse_curve=True, exposure=False, headroom=False, shadows=True, night=True, night_chroma=0.0,
                night_cap=8.0, night_fine=1.0)
class CurveUNet(EnhancementNet):
    """Input and output ``(B, 3, H, W)`` in [0, 1]; any size (padded, cropped back).

    ``width`` channels at the first level (doubling per level), ``factor`` the pixel-unshuffle
    factor, ``blocks`` residual blocks per level, ``knots`` segments of each tone curve,
    ``thumb`` the whole-image thumbnail side the context sees (0: statistics only), ``colour``
    the largest global colour correction (log-gain per channel; 0 turns it off), ``top_slope``
    the least slope of the tone curve next to white (a bound ``1 - top_slope * (1 - v)``);
    ``coarse_curve`` builds each tone curve at 1/4 resolution and interpolates its knot values
    (:func:`knot_values`), rather than interpolating its parameters: the same guarantees, about
    a third less time at full resolution. ``exposure`` makes how much to brighten explicit: an
    :class:`ExposurePredictor` guesses the output's mean luma and the U-Net is conditioned on it
    (in training on the reference's own, :meth:`training_context`), and a caller may set it
    (:meth:`with_exposure`). ``headroom`` conditions the bottleneck on :func:`headroom_cues` too.
    ``shadows`` adds the very-dark stage (:func:`shadow_stage`); ``night`` lets its toe and
    desaturation act only as far as the frame is a night (:func:`night_weight`); ``night_chroma``
    (0: off, as shipped) takes that share of chroma from a night's pixels the curve lifts 8x or
    more (less down to a 2x lift, none below): the curve multiplies R, G and B alike, so a dark
    pixel lifted 10x makes the light's tint vivid (a white suit under bluish light turns saturated
    blue), where per-channel curves compress it. Tried, not shipped (docs/MODEL.md says why).
    ``night_cap`` (0: off; ignored without ``night``) is the most a night's tone curve may lift a
    pixel, as far as the frame is a night with black in it (:func:`night_weight` times
    :func:`black_weight`): trained on references that light every shadow, the curve lifts a night's
    darkest tones 10x and more, which turns its sky and noise floor into a haze and flattens the
    glow of its lamps into a wash; capped, the darkest tones rise linearly up to where the curve
    itself lifts less. ``night_fine`` (1: off, as shipped; needs ``night_cap``) is the share of the
    learned fine denoiser's smoothing kept on such a night: on real nights it smooths faint
    structure (bare branches against a sky) into soft masses where the input holds it under grain.
    Tried, not shipped (docs/MODEL.md says why).
    """

    uses_context = True

    def __init__(self, width: int = 24, factor: int = 4, blocks: tuple = (1, 2, 2), knots: int = 16,
                 thumb: int = 64, colour: float = 0.25, top_slope: float = 0.2, coarse_curve: bool = False,
                 exposure: bool = False, headroom: bool = False, shadows: bool = False, night: bool = False,
                 night_chroma: float = 0.0, night_cap: float = 0.0, night_fine: float = 1.0):
        super().__init__()
        self.top_slope, self.coarse_curve = top_slope, coarse_curve
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
        self.colour = nn.Sequential(nn.Linear(N_STATS, 32), nn.LeakyReLU(0.1), nn.Linear(32, 1))
        self.head = nn.Conv2d(chans[0], knots + 4, 3, padding=1, padding_mode="replicate")
        if night and not shadows:
            raise ValueError("curve-unet: night gates the very-dark stage (shadows=True)")
        if night_chroma and not night:
            raise ValueError("curve-unet: night_chroma acts on nights (night=True)")
        if not 0.0 <= night_chroma <= 1.0:
            raise ValueError(f"curve-unet: night_chroma is a share between 0 and 1, got {night_chroma}")
        self.night_chroma = float(night_chroma)
        if night_cap and night_cap <= 1.0:
            raise ValueError(f"curve-unet: night_cap is the most a night is lifted, above 1 (0: off), got {night_cap}")
        self.night_cap = float(night_cap) if night else 0.0  # without night there is no night to cap
        if not 0.0 <= night_fine <= 1.0:
            raise ValueError(f"curve-unet: night_fine is a share between 0 and 1, got {night_fine}")
        if night_fine < 1.0 and not self.night_cap:
            raise ValueError("curve-unet: night_fine acts on nights with black in them (night=True, night_cap > 1)")
        self.night_fine = float(night_fine)
        self.exposure, self.headroom, self.shadows, self.night = exposure, headroom, shadows, night
        if shadows:
            self.shadow_head = nn.Conv2d(chans[0], len(SHADOW_FIELDS), 3, padding=1, padding_mode="replicate")
            shadow_head_init(self.shadow_head)
        if headroom:
            self.headroom_film = ExposureFiLM(chans[-1], inputs=HEADROOM_SLOTS)
        if exposure:
            if not thumb:
                raise ValueError("curve-unet: exposure needs the thumbnail (thumb > 0)")
            self.predictor = ExposurePredictor(thumb)
            self.exposure_film = ExposureFiLM(chans[-1])
        #: The predictor's loss on the last training batch (``exposure`` models; None otherwise).
        self.aux_loss: torch.Tensor | None = None
        with torch.no_grad():  # start as a gamma-2.2 brightening with mild smoothing, neutral colour
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[:knots].copy_(curve_params(curve_knots(knots), 2.2))
            self.head.bias[knots:].copy_(torch.tensor([0.0, -1.0, 0.0, -1.0]))  # range e^7, a quarter smoothed
            nn.init.zeros_(self.colour[-1].weight)
            self.colour[-1].bias.fill_(-2.0)  # remove about 12% of the cast at first

    def context_stats(self, x: torch.Tensor) -> torch.Tensor:
        """What :meth:`forward` conditions on, from the whole image (tiles share it)."""
        stats = image_descriptor(x, self.thumb) if self.thumb else image_statistics(x)
        if self.headroom:
            stats = torch.cat([stats, headroom_cues(x)], dim=1)
        if self.night:
            stats = torch.cat([stats, night_weight(x)], dim=1)
        if self.night_cap:
            stats = torch.cat([stats, black_weight(x)], dim=1)
        if self.exposure:
            stats = torch.cat([stats, noise_level(x), stats.new_zeros(stats.shape[0], 2)], dim=1)
        return stats

    @staticmethod
    def with_exposure(stats: torch.Tensor, log_ratio: torch.Tensor | float) -> torch.Tensor:
        """``stats`` of an ``exposure`` model with the target set: the output's mean luma should be
        ``exp(log_ratio)`` times the input's (>= 0: the tone curve never darkens)."""
        target = torch.as_tensor(log_ratio, dtype=stats.dtype, device=stats.device).reshape(-1, 1)
        target = target.clamp_min(0.0).expand(stats.shape[0], 1)
        return torch.cat([stats[:, :-2], torch.ones_like(target), target], dim=1)

    @property
    def takes_brightness(self) -> bool:
        return self.exposure

    def with_brightness(self, stats: torch.Tensor, x: torch.Tensor, level: float) -> torch.Tensor:
        """Ask for an output of mean luma ``level`` (never below the input's: nothing darkens)."""
        if not self.exposure:
            return super().with_brightness(stats, x, level)
        return self.with_exposure(stats, math.log(level + 1e-3) - log_mean_luma(x))

    def training_context(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """The context with the target the reference shows (an ``exposure`` model learns to follow
        it, and its predictor learns to guess it)."""
        stats = self.context_stats(low)
        if not self.exposure:
            return stats
        return self.with_exposure(stats, log_mean_luma(high) - log_mean_luma(low))

    def forward_padded(self, x: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        """The network on an input whose sides are multiples of :attr:`multiple` (what ONNX exports)."""
        target = cues = night = black = None
        if self.exposure:
            noise, flag, given = stats[:, -3:-2], stats[:, -2:-1], stats[:, -1:]
            stats = stats[:, :-EXPOSURE_SLOTS]
        if self.night_cap:
            black, stats = stats[:, -1:], stats[:, :-1]
        if self.night:
            night, stats = stats[:, -1:], stats[:, :-1]
        if self.headroom:
            cues, stats = stats[:, -HEADROOM_SLOTS:], stats[:, :-HEADROOM_SLOTS]
        if self.exposure:
            guess = self.predictor(stats, noise)
            if self.training:
                self.aux_loss = (flag * (guess - given).abs()).sum() / flag.sum().clamp_min(1.0)
            target = torch.where(flag > 0.5, given, guess)

        def bottleneck(f: torch.Tensor) -> torch.Tensor:
            f = self.context(f, stats)
            if cues is not None:
                f = self.headroom_film(f, cues)
            return f if target is None else self.exposure_film(f, target)

        y = self.stem(F.pixel_unshuffle(x, self.factor))
        y = unet_pass(y, self.encoders, self.downs, self.ups, self.decoders, bottleneck)
        k = self.knots.numel() - 1
        up = lambda t: F.interpolate(t, scale_factor=self.factor, mode="bilinear", align_corners=False)  # noqa: E731
        h = self.head(y)
        if self.coarse_curve:
            values = up(knot_values(h[:, :k], self.knots))
            h = up(h[:, k:])
            curve = lambda v: lookup_curve(v, values)  # noqa: E731
        else:
            h = up(h)
            logits, h = h[:, :k], h[:, k:]
            curve = lambda v: tone_curve(v, logits, self.knots)  # noqa: E731
        # Denoiser: per pixel, how sharp the range weight is and how much of the smoothed image to
        # take. Bounded by tanh and sigmoid, not clamps: a clamp's zero gradient can trap a
        # parameter at its bound (the first runs stuck at the strongest blur).
        range1, range2 = (torch.exp(7.0 + 5.0 * torch.tanh(h[:, i:i + 1] / 5.0)) for i in (0, 2))
        mix1, mix2 = (torch.sigmoid(h[:, i:i + 1]) for i in (1, 3))
        if black is not None and self.night_fine < 1.0:  # a night with black in it: keep its faint structure
            keep = 1.0 - (1.0 - self.night_fine) * (night * black).view(-1, 1, 1, 1)
            mix1, mix2 = mix1 * keep, mix2 * keep

        x = x.contiguous()  # the per-pixel maths below runs faster on planar (NCHW) memory than channels_last
        guide = torch.sqrt(luma(x, axis=1).unsqueeze(1).clamp_min(0.0) + 1e-4)
        z = x + mix1 * (bilateral(x, guide, SPATIAL, range1, dilation=1) - x)
        z = z + mix2 * (bilateral(z, guide, SPATIAL, range2, dilation=2) - z)

        toe = grey = None
        # A frame that is no night at all gets nothing from a night-gated stage (no toe, greying or
        # smoothing): skip its cost. The exported graph always keeps the stage.
        skip = (night is not None and not night.is_meta and not torch.onnx.is_in_onnx_export()
                and bool((night == 0).all()))
        if self.shadows and not skip:
            v = z.amax(dim=1, keepdim=True).clamp(0.0, 1.0)
            reach = lift_reach(torch.minimum(curve(v), 1.0 - self.top_slope * (1.0 - v)) / v.clamp_min(1e-4))
            z, toe, grey = shadow_stage(z, self.shadow_head(y), self.factor, reach, night)

        v = z.amax(dim=1, keepdim=True).clamp(0.0, 1.0)
        lifted = torch.minimum(curve(v), 1.0 - self.top_slope * (1.0 - v))
        if black is not None:  # a night with black in it: lift at most night_cap times (still >= v)
            w = (night * black).view(-1, 1, 1, 1)
            exact = w.is_meta or torch.onnx.is_in_onnx_export()
            if exact or bool((w > 0).any()):
                capped = torch.minimum(lifted, self.night_cap * v)
                lifted = capped if not exact and bool((w == 1).all()) else lifted + w * (capped - lifted)
        if toe is not None:
            lifted = toe(v, lifted)
        gain = lifted / v.clamp_min(1e-4)
        out = z * gain
        if grey is not None:
            keep = grey(v)
            if self.night_chroma and night is not None:  # a night's lifted colours: the light's tint
                keep = keep * (1.0 - self.night_chroma * night.view(-1, 1, 1, 1) * lift_reach(gain, start=2.0))
            out_y = luma(out, axis=1).unsqueeze(1)
            out = out_y + keep * (out - out_y)
        if self.colour_max:
            log_mean = torch.log(stats[:, :3] + 1e-3)  # whole-image mean R, G, B
            cast = log_mean - log_mean.mean(dim=1, keepdim=True)
            share = torch.sigmoid(self.colour(stats[:, :N_STATS]))  # (B, 1): how much of the cast to remove
            log_c = (-share * cast).clamp(-self.colour_max, self.colour_max)  # (B, 3)
            reach = lift_reach(gain)
            col = torch.exp(log_c[:, :, None, None] * reach)
            col = col / luma(col, axis=1).unsqueeze(1)
            out = out * col
        return out / out.amax(dim=1, keepdim=True).clamp_min(1.0)
