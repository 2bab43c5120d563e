"""Tiled inference: spans cover the image, blend weights sum to one, tiles match the whole."""

import numpy as np
import pytest
import torch

from lowlight.core.enhancer import Enhancer, enhance
from lowlight.models import create_model
from lowlight.core.tiling import _weights_1d, auto_tile, run_tiled, tile_spans


@pytest.mark.parametrize("length,tile,overlap,multiple", [(517, 96, 32, 16), (4000, 1536, 128, 16),
                                                          (100, 48, 16, 16), (64, 128, 16, 16), (301, 200, 64, 1)])
def test_spans_cover_and_weights_sum_to_one(length, tile, overlap, multiple):
    spans = tile_spans(length, tile, overlap, multiple)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(a % multiple == 0 for a, _ in spans)
    assert all(b - a <= max(tile, length if len(spans) == 1 else tile) + multiple for a, b in spans)
    total = torch.zeros(length)
    for (a, b), w in zip(spans, _weights_1d(spans)):
        total[a:b] += w
    assert torch.allclose(total, torch.ones(length))


def test_auto_tile_only_for_big_images():
    assert auto_tile(3000, 2000) is None and auto_tile(6000, 4000) is not None


def test_run_tiled_of_a_pointwise_function_is_exact():
    image = torch.rand(1, 3, 70, 93)
    out = run_tiled(lambda x: x * 2 + 1, image, tile=32, overlap=8, multiple=4)
    assert torch.allclose(out, image * 2 + 1, atol=1e-6)


@pytest.fixture(scope="module")
def enhancer():
    torch.manual_seed(0)
    net = create_model("gain-unet", width=8).eval()
    with torch.no_grad():  # random weights everywhere, head included: a wider reach than trained ones
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.03)
    return Enhancer(net, "gain-unet", {"width": 8})


@pytest.mark.parametrize("size,tile,overlap", [((301, 419), 256, 128), ((263, 517), 320, 160), ((97, 611), 288, 128)])
def test_tiled_matches_untiled_at_odd_sizes(enhancer, size, tile, overlap):
    image = np.random.default_rng(1).random((*size, 3), dtype=np.float32) * 0.3
    whole = enhance(image, enhancer, tile=0)
    tiled = enhance(image, enhancer, tile=tile, overlap=overlap)
    assert np.abs(whole - tiled).max() <= 1 / 255


def test_tile_must_exceed_overlap(enhancer):
    from lowlight.errors import LowlightError

    with pytest.raises(LowlightError, match="larger than the overlap"):
        enhance(np.zeros((40, 40, 3), np.uint8), enhancer, tile=32, overlap=64)
