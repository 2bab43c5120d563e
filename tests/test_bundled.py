"""The model that ships inside the package: present, small, the default everywhere, and good,
judged against references it must beat by a margin and against photos it must not harm."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lowlight
from lowlight.cli import main
from lowlight.core.enhancer import DEFAULT_MODEL, bundled_weights, pretrained_models

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "samples" / "dark"


@pytest.fixture(scope="module")
def model():
    return lowlight.load_model(device="cpu")


def test_weights_ship_with_the_package_and_fit_the_budget(model):
    from lowlight.core.checkpoint import read_metadata
    from lowlight.models import count_parameters, model_args

    path = bundled_weights(DEFAULT_MODEL)
    assert path is not None and path.stat().st_size <= 10 * 1024 * 1024
    assert DEFAULT_MODEL == "curve-unet" and DEFAULT_MODEL in pretrained_models()
    assert model.name == DEFAULT_MODEL and model.metadata["format"] == "lowlight-weights/1"
    assert count_parameters(model.net) <= 2_000_000
    registry = {k: list(v) if isinstance(v, tuple) else v for k, v in model_args(DEFAULT_MODEL).items()}
    from lowlight.models.registry import saved_args

    shipped = saved_args(DEFAULT_MODEL, read_metadata(path)["model_args"])  # arguments it predates: as before them
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in shipped.items()} == registry  # the registry describes what ships


def test_beats_every_classical_method_on_lol_crops_by_a_margin(model):
    """tests/data/lol: 64x48 crops of three eval15 pairs, never trained on."""
    from lowlight.core.classical import make_method
    from lowlight.media.pairs import find_pairs
    from lowlight.research.evaluation import evaluate

    pairs = find_pairs(HERE / "data" / "lol")
    ours = evaluate(model, pairs).mean["psnr"]
    classical = {m: evaluate(make_method(m), pairs).mean["psnr"] for m in ("gamma", "hist-eq", "clahe", "lime")}
    assert ours >= OURS_LOL_CROPS - 0.5, ours
    assert ours >= max(classical.values()) + 1.5, (ours, classical)  # LIME is the best of them: 19.3 dB


OURS_LOL_CROPS = 21.3  # measured for the shipped weights (gamma 11.6, hist-eq 10.8, clahe 8.2, lime 19.3)

#: The shipped model on tests/data/lol-small (five whole eval15 scenes at 300x200): PSNR and SSIM.
OURS_LOL_SMALL = (20.86, 0.857)


def quality_gate(enhancer) -> tuple[bool, dict]:
    """Whether ``enhancer`` is as good as the shipped model on whole real scenes: PSNR within
    0.5 dB of it and SSIM within 0.02 (the structure a crude brightening destroys)."""
    from lowlight.media.pairs import find_pairs
    from lowlight.research.evaluation import evaluate

    mean = evaluate(enhancer, find_pairs(HERE / "data" / "lol-small")).mean
    return mean["psnr"] >= OURS_LOL_SMALL[0] - 0.5 and mean["ssim"] >= OURS_LOL_SMALL[1] - 0.02, mean


def test_passes_the_quality_gate_on_whole_real_scenes(model):
    ok, mean = quality_gate(model)
    assert ok, mean


def test_the_quality_gate_catches_a_fake_model():
    """'gamma 1/6 when the photo is dark, else identity' passed every quality test that ran on a
    clean clone before tests/data/lol-small; it must fail this one."""

    def fake(image: np.ndarray) -> np.ndarray:
        x = image / 255.0
        return np.round(255 * (x ** (1 / 6) if x.mean() < 0.25 else x)).astype(np.uint8)

    ok, mean = quality_gate(fake)
    assert not ok, mean


@pytest.mark.parametrize("level", [0.03, 0.15, 0.5, 0.85])
@pytest.mark.parametrize("tint", [(1.0, 1.0, 1.0), (1.0, 0.8, 0.55)])
def test_flat_in_flat_out_and_grey_stays_grey(model, level, tint):
    flat = np.round(np.full((96, 128, 3), level) * np.array(tint) * 255).astype(np.uint8)
    out = lowlight.enhance(flat, model).astype(int)
    assert (out.max(axis=(0, 1)) - out.min(axis=(0, 1))).max() <= 1  # no pattern, no bent border
    if tint == (1.0, 1.0, 1.0):
        assert (out.max(-1) - out.min(-1)).max() <= 2  # neutral stays neutral
    assert out.mean() >= flat.mean() - 1  # never darker


def test_leaves_well_exposed_photos_nearly_alone(model):
    from lowlight.research.evaluation import score
    from lowlight.research.metrics import added_clipping, colour_shift, mean_luma

    for path in sorted((HERE / "data" / "photos").glob("*.png")):
        photo = np.asarray(Image.open(path).convert("RGB"))
        out = lowlight.enhance(photo, model)
        assert score(out, photo)["psnr"] >= 30.0, path.name
        assert mean_luma(out) >= mean_luma(photo) - 0.01, path.name
        assert colour_shift(photo, out) <= 1.0 and added_clipping(photo, out) <= 1.0, path.name


def test_brightens_a_real_dark_photo_without_blowing_it_out(model):
    from lowlight.research.metrics import added_clipping, grid_energy

    dark = np.asarray(Image.open(SAMPLES / "lime-8.png").convert("RGB"))
    out = lowlight.enhance(dark, model)
    assert out.shape == dark.shape and out.dtype == np.uint8
    assert out.mean() > 2 * dark.mean() and out.mean() < 170
    assert added_clipping(dark, out) <= 1.0 and grid_energy(out) <= 0.5


def test_cli_uses_the_bundled_model_by_default(tmp_path, capsys):
    assert main(["enhance", str(SAMPLES / "lime-3.png"), "-o", str(tmp_path / "x.png"), "-q"]) == 0
    assert Image.open(tmp_path / "x.png").size == Image.open(SAMPLES / "lime-3.png").size
    assert main(["models"]) == 0
    assert "bundled, default" in capsys.readouterr().out


@pytest.mark.shared
@pytest.mark.slow
def test_eval15_at_full_resolution(shared, model):
    from lowlight.core.classical import make_method
    from lowlight.media.pairs import find_pairs
    from lowlight.research.evaluation import evaluate

    pairs = find_pairs(shared / "LOL-v1", "test")
    ours = evaluate(model, pairs).mean
    lime = evaluate(make_method("lime"), pairs).mean["psnr"]
    assert ours["psnr"] >= EVAL15_PSNR - 0.2 and ours["psnr"] >= lime + 2.0
    assert ours["ssim"] >= EVAL15_SSIM - 0.01


EVAL15_PSNR, EVAL15_SSIM = 20.24, 0.803  # measured for the shipped weights; see docs/MODEL.md


def test_default_tiling_leaves_no_seams_with_the_bundled_model(model):
    dark = np.asarray(Image.open(SAMPLES / "lime-8.png").convert("RGB")).astype(np.float32) / 255
    whole = lowlight.enhance(dark, model, tile=0)
    tiled = lowlight.enhance(dark, model, tile=384)  # default overlap: 256
    assert np.abs(whole - tiled).max() <= 1 / 255
