"""The model that ships inside the package: present, small, the default everywhere, and good."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lowlight
from lowlight.cli import main
from lowlight.inference import DEFAULT_MODEL, bundled_weights, pretrained_models

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "dark"


def test_weights_ship_with_the_package_and_fit_the_budget():
    path = bundled_weights(DEFAULT_MODEL)
    assert path is not None and path.stat().st_size <= 10 * 1024 * 1024
    assert DEFAULT_MODEL in pretrained_models()
    model = lowlight.load_model()
    assert model.name == DEFAULT_MODEL and model.metadata["format"] == "lowlight-weights/1"
    from lowlight.models import count_parameters

    assert count_parameters(model.net) <= 2_000_000


def test_default_model_brightens_a_real_dark_photo_without_clipping():
    dark = np.asarray(Image.open(SAMPLES / "lime-8.png").convert("RGB"))
    out = lowlight.enhance(dark)
    assert out.shape == dark.shape and out.dtype == np.uint8
    assert out.mean() > 2 * dark.mean() and out.mean() < 170
    assert (out >= 254).mean() < 0.05  # at most a few blown highlights (2.4% here; see docs/MODEL.md)


def test_cli_uses_the_bundled_model_by_default(tmp_path, capsys):
    assert main(["enhance", str(SAMPLES / "lime-3.png"), "-o", str(tmp_path / "x.png"), "-q"]) == 0
    assert Image.open(tmp_path / "x.png").size == Image.open(SAMPLES / "lime-3.png").size
    assert main(["models"]) == 0
    assert "bundled, default" in capsys.readouterr().out


@pytest.mark.shared
def test_default_model_beats_every_classical_baseline_on_eval15(shared):
    from lowlight.classical import make_method
    from lowlight.data import find_pairs
    from lowlight.evaluation import evaluate

    pairs = find_pairs(shared / "LOL-v1", "test")
    ours = evaluate(lowlight.load_model(device="cpu"), pairs).mean["psnr"]
    best_classical = max(evaluate(make_method(m), pairs).mean["psnr"] for m in ("gamma", "hist-eq"))
    assert ours > best_classical + 3


def test_default_tiling_leaves_no_seams_with_the_bundled_model():
    dark = np.asarray(Image.open(SAMPLES / "lime-8.png").convert("RGB")).astype(np.float32) / 255
    model = lowlight.load_model(device="cpu")
    whole = lowlight.enhance(dark, model, tile=0)
    tiled = lowlight.enhance(dark, model, tile=384)  # default overlap: 256
    assert np.abs(whole - tiled).max() <= 1 / 255
