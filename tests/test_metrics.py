import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.research.metrics import gt_mean_scale, psnr, ssim


def test_psnr_known_values():
    x = torch.zeros(1, 3, 8, 8)
    assert psnr(x, x + 0.1).item() == pytest.approx(20.0)  # MSE 0.01 -> 20 dB
    assert psnr(x, x + 0.01).item() == pytest.approx(40.0)
    assert torch.isinf(psnr(x, x)).all()


def test_psnr_matches_numpy_on_real_pair(lol_tiny):
    low = np.asarray(Image.open(lol_tiny / "low" / "1.png"), dtype=np.float64) / 255
    high = np.asarray(Image.open(lol_tiny / "high" / "1.png"), dtype=np.float64) / 255
    expected = 10 * np.log10(1.0 / np.mean((low - high) ** 2))
    t = lambda a: torch.from_numpy(a).permute(2, 0, 1)  # noqa: E731
    assert psnr(t(low), t(high)).item() == pytest.approx(expected, abs=1e-9)


def test_psnr_is_per_image():
    a = torch.zeros(2, 3, 4, 4)
    b = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 0.01)])
    assert psnr(a, b).tolist() == pytest.approx([20.0, 40.0])


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_scikit_image_random(seed):
    from skimage import metrics as skimage_metrics  # in the test extra: a missing one must fail

    rng = np.random.default_rng(seed)
    a = rng.random((37, 53, 3))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    ref = skimage_metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                                use_sample_covariance=False, data_range=1, channel_axis=-1)
    t = lambda x: torch.from_numpy(x).permute(2, 0, 1)  # noqa: E731
    assert ssim(t(a), t(b)).item() == pytest.approx(ref, abs=1e-10)


def test_ssim_matches_scikit_image_real_pair(lol_tiny):
    from skimage import metrics as skimage_metrics  # in the test extra: a missing one must fail

    low = np.asarray(Image.open(lol_tiny / "low" / "22.png"), dtype=np.float64) / 255
    high = np.asarray(Image.open(lol_tiny / "high" / "22.png"), dtype=np.float64) / 255
    ref = skimage_metrics.structural_similarity(low, high, gaussian_weights=True, sigma=1.5,
                                                use_sample_covariance=False, data_range=1, channel_axis=-1)
    t = lambda x: torch.from_numpy(x).permute(2, 0, 1)  # noqa: E731
    assert ssim(t(low), t(high)).item() == pytest.approx(ref, abs=1e-10)


def test_ssim_identity_and_too_small():
    x = torch.rand(3, 16, 16, dtype=torch.float64)
    assert ssim(x, x).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.rand(3, 8, 8), torch.rand(3, 8, 8))


def test_gt_mean_scale_matches_target_mean():
    target = torch.full((1, 3, 4, 4), 0.5)
    out = torch.full((1, 3, 4, 4), 0.25)
    assert torch.allclose(gt_mean_scale(out, target), target)


def test_colour_shift_is_zero_for_a_plain_gain_and_counts_a_cast():
    from lowlight.research.metrics import colour_shift

    rng = np.random.default_rng(0)
    img = rng.integers(40, 110, (32, 32, 3)).astype(np.uint8)
    assert colour_shift(img, img * 2) == pytest.approx(0.0, abs=1e-9)
    red = img.astype(int) * 2
    red[..., 0] += 20
    shift = colour_shift(img, red.astype(np.uint8))
    expected = np.mean(red[..., 0] / red.sum(-1) - img[..., 0] / img.astype(int).sum(-1)) * 100
    assert shift == pytest.approx(expected, rel=1e-6) and shift > 2


def test_added_clipping_and_grid_energy():
    from lowlight.research.metrics import added_clipping, grid_energy, smooth_residual

    flat = np.full((64, 64, 3), 100, np.uint8)
    out = flat.copy()
    out[:16] = 255
    assert added_clipping(flat, out) == pytest.approx(25.0) and added_clipping(out, out) == 0.0
    mesh = flat.astype(int)
    mesh[::4, ::4] += 4  # one pixel in 16 four levels up: a 4-pixel mesh
    assert grid_energy(flat) == 0.0 and grid_energy(mesh.astype(np.uint8)) > 0.5
    ramp = np.tile(np.linspace(10, 200, 64)[None, :, None], (64, 1, 3))
    curved = np.tile(np.sqrt(np.linspace(0.02, 0.6, 256))[None, :, None] * 255, (32, 1, 3))  # a tone curve
    assert smooth_residual(ramp) < 0.01 and smooth_residual(curved) < 0.25 and smooth_residual(mesh) >= 3


def test_glow_is_zero_for_a_global_curve_and_counts_a_lifted_ring():
    """A lamp on a dark noisy frame: a global gamma leaves no ring (within 0.3/255), a lift that
    fades with the distance from the lamp is measured; no lamp, no figure."""
    from lowlight.research.metrics import glow

    rng = np.random.default_rng(0)
    h, w = 240, 360
    dark = (rng.random((h, w, 3)) * 0.08 * 255).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    dark[(yy - 120) ** 2 + (xx - 60) ** 2 < 36] = 250
    curve = (255 * (np.arange(256) / 255) ** (1 / 2.2)).round().astype(np.uint8)
    assert abs(glow(dark, curve[dark])) < 0.3
    ring = 1 + 0.5 * np.exp(-np.hypot(yy - 120, xx - 60) / 25)
    lifted = np.clip(curve[dark] * ring[..., None], 0, 255).astype(np.uint8)
    assert glow(dark, lifted) > 5
    assert glow(np.minimum(dark, 200), curve[np.minimum(dark, 200)]) is None
