"""lowlight.enhance(): every kind of image in, the same kind out, with strength and exposure."""

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight import enhance
from lowlight.core.enhancer import Enhancer
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


def _linear(a: np.ndarray) -> np.ndarray:
    x = a.astype(np.float64) / 255
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def test_exposure_moves_brightness_both_ways(model):
    base = enhance(DARK, model).mean()
    assert enhance(DARK, model, exposure=1.0).mean() > base + 5
    assert enhance(DARK, model, exposure=-1.0).mean() < base - 5


@pytest.mark.parametrize("stops", [1.0, -1.0, 0.5])
def test_exposure_is_stops_in_linear_light_through_every_surface(model, tmp_path, stops):
    """``--exposure S`` multiplies the result by 2**S in linear light: in the API, the CLI and
    the server alike (strength 0 keeps the input, so the factor is all that changes)."""
    from PIL import Image

    from lowlight.cli import main

    mid = np.full((24, 32, 3), 60, np.uint8)
    want = _linear(mid).mean() * 2 ** stops
    api = enhance(mid, model, strength=0.0, exposure=stops)
    src, out = tmp_path / "mid.png", tmp_path / "out.png"
    Image.fromarray(mid).save(src)
    assert main(["enhance", str(src), "-o", str(out), "--strength", "0", "--exposure", str(stops), "-q"]) == 0
    cli = np.asarray(Image.open(out))
    results = [api, cli]
    try:
        from fastapi.testclient import TestClient

        from lowlight.server import ServerConfig, create_app
    except ImportError:
        pass
    else:
        import io

        with TestClient(create_app(ServerConfig())) as client:
            r = client.post("/v1/enhance", files={"file": ("m.png", src.read_bytes(), "image/png")},
                            data={"strength": "0", "exposure": str(stops)})
        results.append(np.asarray(Image.open(io.BytesIO(r.content))))
    for got in results:
        assert _linear(got).mean() == pytest.approx(want, rel=0.02)


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


def test_gamma_preprocessing_runs_in_the_one_path():
    """A model trained with the report's gamma must get it at inference: Enhancer(gamma=2.2) on an
    image equals Enhancer(gamma=None) on the gamma-corrected image."""
    from lowlight.color import apply_gamma

    torch.manual_seed(0)
    net = create_model("sid-unet", width=4, depth=2).eval()
    with_gamma = Enhancer(net, "sid-unet", {"width": 4, "depth": 2}, gamma=2.2)
    without = Enhancer(net, "sid-unet", {"width": 4, "depth": 2}, gamma=None)
    assert np.array_equal(with_gamma(DARK), without(apply_gamma(DARK, 2.2)))
    assert not np.array_equal(with_gamma(DARK), without(DARK))
    assert np.array_equal(enhance(DARK, with_gamma), with_gamma(DARK))  # the API goes the same way


def test_pil_modes_la_and_i16_come_back_as_they_went_in(model):
    la = Image.fromarray(np.stack([DARK[..., 0], np.full(DARK.shape[:2], 200, np.uint8)], -1), "LA")
    out = enhance(la, model)
    assert out.mode == "LA" and np.array_equal(np.asarray(out)[..., 1], np.asarray(la)[..., 1])
    grey16 = Image.fromarray((DARK[..., 1].astype(np.uint16) * 257))
    out16 = enhance(grey16, model)
    assert out16.mode.startswith("I;16") and np.asarray(out16).max() > 255  # still 16 bits
    assert np.asarray(out16).mean() > np.asarray(grey16).mean()


def test_images_above_8_megapixels_are_tiled_automatically():
    """A cheap stand-in network records the sizes it is called with."""
    from lowlight.models.base import EnhancementNet
    from lowlight.core.tiling import AUTO_TILE_PIXELS, DEFAULT_TILE

    class Recorder(EnhancementNet):
        multiple = 4

        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))
            self.calls = []

        def forward_padded(self, x, stats):
            self.calls.append(tuple(x.shape[-2:]))
            return x * self.scale

    net = Recorder()
    enhancer = Enhancer(net, "recorder")
    small = torch.rand(1, 3, 100, 80)
    assert torch.allclose(enhancer.process(small), small) and net.calls == [(100, 80)]
    net.calls.clear()
    side = int(AUTO_TILE_PIXELS ** 0.5) + 8
    big = torch.rand(1, 3, side, side)
    assert torch.allclose(enhancer.process(big), big, atol=1e-6)
    assert len(net.calls) > 1 and max(max(c) for c in net.calls) <= DEFAULT_TILE + 4


def test_brightness_target_needs_a_model_that_takes_one(model, tmp_path, capsys):
    from lowlight.core.checkpoint import save_weights
    from lowlight.cli import main
    from lowlight.errors import LowlightError

    with pytest.raises(LowlightError, match="takes no --brightness"):
        enhance(DARK, model, brightness=0.4)
    with pytest.raises(LowlightError, match="between 0.01 and 0.99"):
        enhance(DARK, model, brightness=1.5)
    weights = save_weights(tmp_path / "g.safetensors", model.net, "gain-unet", {"width": 8})
    Image.fromarray(DARK).save(tmp_path / "in.png")
    code = main(["enhance", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--weights", str(weights),
                 "--brightness", "0.4", "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "takes no --brightness" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def test_brightness_target_reaches_an_exposure_model():
    torch.manual_seed(1)
    net = create_model("curve-unet", width=4, thumb=8, exposure=True).eval()
    with torch.no_grad():  # the exposure FiLM starts as the identity; give it something to do
        for p in net.exposure_film.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    exposed = Enhancer(net, "curve-unet", {"width": 4, "thumb": 8, "exposure": True})
    dim, bright = (enhance(DARK, exposed, brightness=b).astype(int) for b in (0.1, 0.6))
    assert np.abs(dim - bright).max() > 0
    # the target the network is given grows with the brightness asked for, and is the log of the
    # output's mean luma over the input's, as in training (a target that works backwards fails here)
    from lowlight.models.curve_unet import log_mean_luma

    x = torch.from_numpy(DARK).permute(2, 0, 1)[None].float() / 255
    stats = net.context_stats(x)
    targets = [net.with_brightness(stats, x, b)[0, -1].item() for b in (0.1, 0.3, 0.6)]
    assert targets == sorted(targets) and targets[0] < targets[-1]
    assert targets[-1] == pytest.approx(float(np.log(0.601) - log_mean_luma(x)), abs=1e-5)
    high = (x * 4).clamp(0, 1)  # a brighter reference: a positive target in training
    assert net.training_context(x, high)[0, -1].item() == pytest.approx(
        float(log_mean_luma(high) - log_mean_luma(x)), abs=1e-5) and net.training_context(x, high)[0, -1] > 0
    assert np.array_equal(enhance(DARK, exposed, brightness=0.6), bright)  # deterministic
