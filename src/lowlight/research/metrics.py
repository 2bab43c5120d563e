"""Full-reference image quality: PSNR and SSIM, written once and used by training, evaluation and tests.

Inputs are float tensors ``(B, C, H, W)`` or ``(C, H, W)`` with values in [0, 1]; results are one
value per image. SSIM follows Wang et al. (2004) with an 11x11 Gaussian window (sigma 1.5),
K1 = 0.01, K2 = 0.03 and population covariances, averaged over the "valid" region and the
channels, which is what scikit-image's ``structural_similarity(gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)`` computes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..color import luma


def _batched(x: torch.Tensor) -> torch.Tensor:
    if x.dim() == 3:
        return x.unsqueeze(0)
    if x.dim() != 4:
        raise ValueError(f"expected (B, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    return x


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, ``10 log10(range^2 / MSE)``; ``inf`` for equal images."""
    x, y = _batched(x), _batched(y)
    if x.shape != y.shape:
        raise ValueError(f"psnr: shapes differ {tuple(x.shape)} vs {tuple(y.shape)}")
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(data_range ** 2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype=torch.float64) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps."""
    coords = torch.arange(size, dtype=dtype) - (size - 1) / 2.0
    g = torch.exp(-(coords ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def ssim_map(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0,
             window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Local SSIM values ``(B, C, H - window + 1, W - window + 1)``; differentiable, for the SSIM loss too."""
    x, y = _batched(x), _batched(y)
    if x.shape != y.shape:
        raise ValueError(f"ssim: shapes differ {tuple(x.shape)} vs {tuple(y.shape)}")
    if min(x.shape[-2:]) < window:
        raise ValueError(f"ssim needs images of at least {window}x{window} pixels, got "
                         f"{x.shape[-1]}x{x.shape[-2]}")
    channels = x.shape[1]
    g = gaussian_window(window, sigma, dtype=x.dtype).to(x.device)
    gx = g.view(1, 1, 1, window).expand(channels, 1, 1, window)
    gy = g.view(1, 1, window, 1).expand(channels, 1, window, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, gx, groups=channels), gy, groups=channels)

    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x * mu_x
    syy = blur(y * y) - mu_y * mu_y
    sxy = blur(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2)
    return num / den


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM per image (see the module docstring for the exact definition)."""
    return ssim_map(x, y, data_range).flatten(1).mean(1)


def gt_mean_scale(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The "GT-mean" correction many papers apply before scoring: scale the output so its mean
    grey level equals the target's, then clip to [0, 1].

    It hides global brightness errors, so its numbers are reported apart and labelled.
    """
    output, target = _batched(output), _batched(target)
    mean_out = luma(output, axis=1).flatten(1).mean(1).clamp_min(1e-8)
    mean_gt = luma(target, axis=1).flatten(1).mean(1)
    return (output * (mean_gt / mean_out).view(-1, 1, 1, 1)).clamp(0.0, 1.0)


# -- No-reference change measures: what an enhancer did to a photo that has no reference ---------
# Pure NumPy on uint8 RGB ``(H, W, 3)``; ``bench/real_photos.py`` and the model tests use them to
# check that a model does no harm (tint, clipping, periodic patterns) while it brightens.

def mean_luma(image) -> float:
    """Mean Rec. 601 luma in [0, 1]."""
    return float(luma(image).mean() / 255.0)


def colour_shift(before, after, dark: float = 0.1) -> float:
    """Largest change, in percentage points, of a channel's mean share of R + G + B, over the
    pixels that are neither dark (luma of ``before`` above ``dark``) nor clipped in either image.

    Scaling the three channels alike gives 0; a red cast of a few levels gives a few points.
    """
    b, a = np.asarray(before, np.float64), np.asarray(after, np.float64)
    keep = (luma(b) > dark * 255) & (b.max(-1) < 255) & (a.max(-1) < 255)
    if not keep.any():
        return 0.0
    share_b = b[keep] / np.maximum(b[keep].sum(-1, keepdims=True), 1e-6)
    share_a = a[keep] / np.maximum(a[keep].sum(-1, keepdims=True), 1e-6)
    return float(np.abs((share_a - share_b).mean(0)).max() * 100)


def clipped_share(image) -> float:
    """Share of pixels with a channel at 255 (blown out)."""
    return float((np.asarray(image).max(-1) >= 255).mean())


def added_clipping(before, after) -> float:
    """Percentage points of the frame clipped in ``after`` and not in ``before``."""
    b, a = np.asarray(before).max(-1) >= 255, np.asarray(after).max(-1) >= 255
    return float((a & ~b).mean() * 100)


def _lamp_distance(lamps: np.ndarray, cell: int, reach: int) -> np.ndarray:
    """Chessboard distance, in ``cell``-pixel steps (at most ``reach + 1``), from each cell of a
    ``cell``-times smaller grid to the nearest cell holding a lamp pixel; by repeated 3x3 dilation."""
    h, w = lamps.shape
    grid = torch.from_numpy(np.ascontiguousarray(lamps[: h // cell * cell, : w // cell * cell]))
    grid = F.max_pool2d(grid.float()[None, None], cell)[0, 0] > 0
    dist = torch.full(grid.shape, reach + 1, dtype=torch.int32)
    reached = grid.clone()
    for step in range(reach + 1):
        dist[reached & (dist > step)] = step
        reached = F.max_pool2d(reached.float()[None, None], 3, stride=1, padding=1)[0, 0] > 0
    return dist.numpy()


def glow(before, after, lamp: float = 0.9, dark: float = 0.1, near: int | None = None, far: int | None = None,
         cell: int = 4) -> float | None:
    """How much more the dark surroundings of bright lights are lifted than the same input level
    far from any light, in 1/255 of output luma (0: a lamp changes nothing around it).

    Lamps: pixels of ``before`` with luma at least ``lamp``. Among the dark pixels (luma under
    ``dark``), those beyond ``far`` pixels (default: three times ``near``) of every lamp give the photo's own global curve (the
    median output at each of 40 input levels); ``glow`` is the median, over the dark pixels within
    ``near`` pixels of a lamp (default: 6% of the longer side; and at least one ``cell`` away), of
    the output above that curve.
    A global tone curve scores 0 by construction; a curve that varies across the frame (lifting
    the neighbourhood of a light as if it were another scene) scores its ring's lift. None when
    the photo has no lamp, or too few dark pixels near one or far from all.
    """
    y_in = luma(np.asarray(before, np.float64)) / 255.0
    y_out = luma(np.asarray(after, np.float64)) / 255.0
    lamps = y_in >= lamp
    if lamps.sum() < 16:
        return None
    near = near or max(16, round(0.06 * max(y_in.shape)))
    far = far or 3 * near
    h, w = (y_in.shape[0] // cell) * cell, (y_in.shape[1] // cell) * cell
    dist = np.repeat(np.repeat(_lamp_distance(lamps, cell, far // cell), cell, 0), cell, 1) * cell
    y_in, y_out = y_in[:h, :w], y_out[:h, :w]
    low = y_in < dark
    ring, away = low & (dist >= cell) & (dist <= near), low & (dist > far)
    if ring.sum() < 200 or away.sum() < 2000:
        return None
    edges = np.linspace(0.0, dark, 41)
    level = np.clip(np.digitize(y_in, edges) - 1, 0, 39)
    curve = np.array([np.median(y_out[away & (level == b)]) if (away & (level == b)).sum() >= 20 else np.nan
                      for b in range(40)])
    known = ~np.isnan(curve)
    if known.sum() < 2:
        return None
    centres = (edges[:-1] + edges[1:]) / 2
    expected = np.interp(y_in[ring], centres[known], curve[known])
    return float(np.median(y_out[ring] - expected) * 255.0)


def _separable(plane: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``plane`` filtered by ``kernel`` along both axes, edges mirrored (``dcba|abcd``)."""
    r = len(kernel) // 2
    out = plane
    for axis in (0, 1):
        padded = np.pad(out, [(r, r) if a == axis else (0, 0) for a in (0, 1)], mode="symmetric")
        n = out.shape[axis]
        out = sum(w * np.take(padded, np.arange(i, i + n), axis=axis) for i, w in enumerate(kernel))
    return out.astype(np.float32)


def grid_energy(image, periods: tuple[int, ...] = (4, 8)) -> float:
    """Strength, in 1/255, of a pattern repeating every 4 or 8 pixels (a mesh, JPEG blocks).

    The luma's fine detail (minus a 3x3 box average) averaged over every position with the
    same phase modulo the period: content averages out, a periodic pattern does not. Returns
    the largest RMS over the periods (about 0.05 for a clean photo of a megapixel).
    """
    y = luma(image).astype(np.float32)
    detail = y - _separable(y, np.full(3, 1 / 3, np.float32))
    worst = 0.0
    for p in periods:
        h, w = (detail.shape[0] // p) * p, (detail.shape[1] // p) * p
        if h < 2 * p or w < 2 * p:
            continue
        phase = detail[:h, :w].reshape(h // p, p, w // p, p).mean(axis=(0, 2))
        worst = max(worst, float(np.sqrt(((phase - phase.mean()) ** 2).mean())))
    return worst


def smooth_residual(image, sigma: float = 2.0) -> float:
    """Largest distance, in 1/255, of an image from a smooth copy of itself (Gaussian, ``sigma``
    pixels), away from the borders (3 sigma): for inputs that are flat or smooth gradients, what a
    model adds there is a pattern or texture. A smooth tone curve applied to a gradient stays
    within a fraction of a level; a 4- or 8-pixel mesh of one level does not.
    """
    a = np.asarray(image, np.float32)
    if a.ndim == 2:
        a = a[..., None]
    m = int(np.ceil(3 * sigma))
    if a.shape[0] <= 2 * m or a.shape[1] <= 2 * m:
        raise ValueError(f"smooth_residual needs images larger than {2 * m} pixels a side")
    radius = max(1, round(4 * sigma))  # the kernel OpenCV's GaussianBlur takes for this sigma
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2).astype(np.float32)
    kernel /= kernel.sum()
    worst = 0.0
    for c in range(a.shape[2]):
        smooth = _separable(a[..., c], kernel)
        worst = max(worst, float(np.abs(a[m:-m, m:-m, c] - smooth[m:-m, m:-m]).max()))
    return worst


def flicker(lumas) -> float:
    """Temporal flicker of a clip, in percent: the standard deviation of the frame-to-frame change
    of mean luma, over the clip's mean luma (0 for a steady clip; one value per frame in)."""
    m = np.asarray(lumas, dtype=np.float64)
    if m.size < 2 or m.mean() <= 0:
        return 0.0
    return float(100.0 * np.std(np.diff(m)) / m.mean())
