import numpy as np
import pytest

from lowlight.core.classical import METHODS, clahe, hist_eq, lime, make_method, msrcr, refine_illumination
from lowlight.color import gamma_table
from lowlight.errors import LowlightError


def textured(seed=0, shape=(48, 64)):
    rng = np.random.default_rng(seed)
    base = rng.integers(20, 230, (*shape, 3)).astype(np.float64)
    from scipy.ndimage import gaussian_filter
    return np.clip(gaussian_filter(base, (2, 2, 0)), 0, 255).astype(np.uint8)


def test_gamma_is_the_report_table():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, 2)
    assert np.array_equal(make_method("gamma")(img)[..., 1].ravel(), gamma_table(2.2))
    assert np.array_equal(make_method("gamma", gamma="1")(img), img)


def test_hist_eq_two_grey_levels_stretch_to_black_and_white():
    img = np.full((8, 8, 3), 10, dtype=np.uint8)
    img[:, 4:] = 20
    out = hist_eq(img)
    assert np.array_equal(out[:, :4], np.zeros((8, 4, 3), np.uint8))
    assert np.array_equal(out[:, 4:], np.full((8, 4, 3), 255, np.uint8))


def test_clahe_keeps_grey_grey_and_brightens_a_dark_image():
    grey = textured(2, (128, 128))[..., :1].repeat(3, axis=2) // 4  # dark, grey, peaked histogram
    out = clahe(grey)
    assert np.abs(out.astype(int) - out[..., :1].astype(int)).max() <= 2  # still grey (a, b kept)
    assert out.mean() > grey.mean()
    # a tighter clip limit gives a gentler result
    assert clahe(grey, clip_limit=1.0, tiles=2).std() < clahe(grey, clip_limit=4.0, tiles=2).std()


def test_lime_on_a_flat_image_is_the_closed_form():
    """Flat illumination T = c is its own refinement, so LIME returns c / c**gamma = c**(1 - gamma)."""
    img = np.full((20, 30, 3), 26, dtype=np.uint8)
    c = 26 / 255
    expected = round(c ** (1 - 0.8) * 255)
    assert np.all(lime(img) == expected)
    assert np.all(lime(img, gamma=0.5) == round(c ** 0.5 * 255))


def test_lime_refinement_smooths_texture_but_keeps_strong_edges():
    t = np.full((32, 32), 0.2)
    t[:, 16:] = 0.8                         # a strong edge
    noisy = t + np.random.default_rng(0).normal(0, 0.01, t.shape)
    refined = refine_illumination(noisy, alpha=0.15)
    assert np.abs(refined - t)[:, 2:14].std() < np.abs(noisy - t)[:, 2:14].std()  # flat part smoother
    assert refined[:, 20:].mean() - refined[:, :12].mean() > 0.55                  # edge kept


def test_msrcr_removes_global_illumination():
    """Retinex output depends on reflectance, not on how brightly the scene is lit."""
    img = textured()
    dim = (img.astype(np.float64) * 0.4).round().astype(np.uint8)
    a, b = msrcr(img).astype(float), msrcr(dim).astype(float)
    assert np.abs(a - b).mean() < 12
    assert msrcr(dim).mean() > 2 * dim.mean()


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_keeps_shape_and_dtype(name):
    img = textured(1, (37, 23))
    out = make_method(name)(img)
    assert out.shape == img.shape and out.dtype == np.uint8


def test_make_method_parameters_are_typed_and_checked():
    assert make_method("clahe", clip_limit="3", tiles="4").params == {"clip_limit": 3.0, "tiles": 4}
    assert make_method("msrcr", sigmas="10,20").params["sigmas"] == (10.0, 20.0)
    with pytest.raises(LowlightError, match="no parameter 'clip'"):
        make_method("clahe", clip="3")
    with pytest.raises(LowlightError, match="unknown method"):
        make_method("retinexnet")
    with pytest.raises(LowlightError, match="bad value"):
        make_method("gamma", gamma="bright")


@pytest.mark.shared
def test_hist_eq_on_eval15_matches_the_independent_measurement(shared):
    from lowlight.media.pairs import find_pairs
    from lowlight.research.evaluation import evaluate
    pairs = find_pairs(shared / "LOL-v1", "test")
    assert evaluate(make_method("hist-eq"), pairs).mean["psnr"] == pytest.approx(14.24, abs=0.005)
