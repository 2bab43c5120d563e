import numpy as np
import pytest

from lowlight.color import apply_gamma, gamma_table, linear_to_srgb, srgb_to_linear


def test_gamma_table_is_the_reports_truncated_lut():
    t = gamma_table(2.2)
    assert t.dtype == np.uint8 and t.shape == (256,)
    assert t[0] == 0 and t[255] == 255
    # floor(255 * (i/255) ** (1/2.2)), as the report's astype("uint8") truncates
    assert t[1] == 20 and t[10] == 58 and t[128] == 186
    assert np.all(np.diff(t.astype(int)) >= 0)


def test_apply_gamma_uses_the_table_and_passes_none():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    out = apply_gamma(img, 2.2)
    assert np.array_equal(out[..., 0].ravel(), gamma_table(2.2))
    assert apply_gamma(img, None) is img
    with pytest.raises(TypeError):
        apply_gamma(img.astype(np.float32), 2.2)


def test_srgb_round_trip():
    x = np.linspace(0, 1, 1001)
    assert np.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-12)
    assert srgb_to_linear(np.array([0.5]))[0] == pytest.approx(0.21404, abs=1e-5)
