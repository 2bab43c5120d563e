"""Property-based tests (Hypothesis): tiling and image round trips hold for any size, not just the
sizes someone thought of."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lowlight.core.enhancer import Enhancer
from lowlight.models import create_model
from lowlight.media.photo import join_array, read_photo, split_array, write_photo
from lowlight.core.tiling import run_tiled

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def enhancer():
    torch.manual_seed(0)
    net = create_model("curve-unet", width=4, thumb=8).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return Enhancer(net, "curve-unet", {"width": 4, "thumb": 8})


@FAST
@given(h=st.integers(1, 160), w=st.integers(1, 160), tile=st.integers(48, 128), seed=st.integers(0, 99))
def test_tiling_a_pointwise_net_is_exact_for_any_size_and_tile(h, w, tile, seed):
    image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    overlap = tile // 3
    out = run_tiled(lambda x: x * 0.5 + 0.25, image, tile, overlap, multiple=4)
    assert torch.allclose(out, image * 0.5 + 0.25, atol=1e-6)


@settings(max_examples=12, deadline=None)
@given(h=st.integers(40, 200), w=st.integers(40, 200), seed=st.integers(0, 99))
def test_tiled_model_output_matches_untiled_within_the_documented_tolerance(enhancer, h, w, seed):
    """The docs promise tiled output within about 1/255 of whole-image output with enough overlap."""
    image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 0.3
    whole = enhancer.process(image, tile=0)
    tiled = enhancer.process(image, tile=64, overlap=48)
    assert (whole - tiled).abs().max().item() <= 1.5 / 255


@FAST
@given(h=st.integers(1, 24), w=st.integers(1, 24), channels=st.sampled_from([1, 2, 3, 4]),
       dtype=st.sampled_from([np.uint8, np.uint16]), seed=st.integers(0, 999))
def test_array_round_trips_keep_dtype_shape_and_values(h, w, channels, dtype, seed):
    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 65535
    shape = (h, w) if channels == 1 else (h, w, channels)
    a = rng.integers(0, top + 1, shape).astype(dtype)
    if channels == 2:  # grey + alpha: grey is what comes back as the colour
        back = join_array(split_array(a), dtype, 2)
        assert back.dtype == a.dtype and np.array_equal(back, a)
        return
    back = join_array(split_array(a), dtype, channels)
    assert back.dtype == a.dtype and back.shape == a.shape and np.array_equal(back, a)


@FAST
@given(h=st.integers(1, 20), w=st.integers(1, 20), ext=st.sampled_from([".png", ".tif", ".webp", ".bmp"]),
       alpha=st.booleans(), deep=st.booleans(), seed=st.integers(0, 999))
@example(h=1, w=6, ext=".webp", alpha=True, deep=False, seed=0)  # a fully transparent pixel: libwebp dropped its colour
def test_file_round_trips_keep_pixels_alpha_and_bit_depth(tmp_path_factory, h, w, ext, alpha, deep, seed):
    rng = np.random.default_rng(seed)
    deep = deep and ext in (".png", ".tif")
    alpha = alpha and ext != ".bmp"
    dtype = np.uint16 if deep else np.uint8
    a = rng.integers(0, 65536 if deep else 256, (h, w, 4 if alpha else 3)).astype(dtype)
    folder = tmp_path_factory.mktemp("rt")
    first = write_photo(split_array(a), folder / f"a{ext}")
    photo = read_photo(first)
    assert photo.bits == (16 if deep else 8) and (photo.alpha is not None) == alpha
    back = join_array(photo, dtype, a.shape[2])
    assert np.array_equal(back, a)
