"""lowlight.enhance(): every kind of image in, the same kind out, with strength and exposure."""

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight import enhance
from lowlight.inference import Enhancer
from lowlight.models import create_model

RNG = np.random.default_rng(3)
DARK = RNG.integers(0, 50, (24, 36, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Enhancer(create_model("gain-unet", width=8).eval(), "gain-unet", {"width": 8})


def test_strength_blends_from_input_to_result(model):
    full = enhance(DARK, model).astype(np.float64)
    assert np.array_equal(enhance(DARK, model, strength=0.0), DARK)
    half = enhance(DARK, model, strength=0.5).astype(np.float64)
    assert np.abs(half - (DARK + full) / 2).max() <= 1.0
    assert full.mean() > DARK.mean() + 20  # the gain head starts as a 4x brightening


def test_exposure_moves_brightness_both_ways(model):
    base = enhance(DARK, model).mean()
    assert enhance(DARK, model, exposure=1.0).mean() > base + 5
    assert enhance(DARK, model, exposure=-1.0).mean() < base - 5


def test_out_of_range_strength_is_an_error(model):
    from lowlight.errors import LowlightError

    with pytest.raises(LowlightError, match="strength"):
        enhance(DARK, model, strength=1.5)


@pytest.mark.parametrize("image", [DARK, DARK.astype(np.uint16) * 257, DARK / 255.0, DARK.astype(np.float32) / 255,
                                   DARK[..., 0], np.dstack([DARK, np.full(DARK.shape[:2], 7, np.uint8)])])
def test_arrays_keep_shape_dtype_and_alpha(model, image):
    out = enhance(image, model)
    assert out.shape == image.shape and out.dtype == image.dtype
    if image.ndim == 3 and image.shape[2] == 4:
        assert np.array_equal(out[..., 3], image[..., 3])


def test_uint16_agrees_with_uint8(model):
    out8 = enhance(DARK, model).astype(np.float64)
    out16 = enhance(DARK.astype(np.uint16) * 257, model).astype(np.float64) / 257
    assert np.abs(out8 - out16).max() <= 1.0


def test_pil_images_and_tensors(model):
    for mode in ("RGB", "RGBA", "L"):
        im = Image.fromarray(DARK).convert(mode)
        out = enhance(im, model)
        assert isinstance(out, Image.Image) and out.mode == mode and out.size == im.size
    x = torch.from_numpy(DARK).permute(2, 0, 1).float() / 255
    out = enhance(x, model)
    assert out.shape == x.shape and out.dtype == x.dtype
    batch = enhance(torch.stack([x, x.flip(-1)]), model)
    assert batch.shape == (2, *x.shape)
    assert torch.allclose(batch[0], out, atol=1e-6)


def test_path_in_pil_out_with_metadata(model, tmp_path):
    src = tmp_path / "photo.jpg"
    Image.fromarray(DARK).save(src, icc_profile=b"icc-bytes" * 10)
    out = enhance(src, model)
    assert isinstance(out, Image.Image) and out.info["icc_profile"] == b"icc-bytes" * 10
