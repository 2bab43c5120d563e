"""ONNX export and the ONNX Runtime backend: same pictures as PyTorch within 1/255, clear errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight import enhance, load_model
from lowlight.core.checkpoint import save_weights
from lowlight.cli import main
from lowlight.models import create_model

RNG = np.random.default_rng(5)
DARK = (RNG.random((53, 71, 3)) ** 3 * 120).astype(np.uint8)


def _weights(path: Path, name: str, **args) -> Path:
    torch.manual_seed(0)
    net = create_model(name, **args)
    with torch.no_grad():  # random but not trivial: perturb the zero-initialised context paths too
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    save_weights(path, net, name, args)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny gain-unet with the thumbnail context, and its ONNX export made by the CLI."""
    root = tmp_path_factory.mktemp("onnx")
    weights = _weights(root / "tiny.safetensors", "gain-unet", width=8, thumb=16)
    target = root / "tiny.onnx"
    assert main(["export", "--weights", str(weights), "--onnx", str(target)]) == 0
    return weights, target


def test_export_writes_a_self_describing_file(exported, capsys):
    import onnx

    weights, target = exported
    meta = {p.key: p.value for p in onnx.load(str(target)).metadata_props}
    assert meta["model"] == "gain-unet" and json.loads(meta["model_args"])["thumb"] == 16
    assert meta["multiple"] == "16" and "stats" in meta["inputs"]
    from lowlight.core.onnx_backend import weights_digest

    assert meta["source_sha256"] == weights_digest(weights)


@pytest.mark.parametrize("tile", [0, 32])
def test_onnx_file_matches_pytorch_within_one_level(exported, tile):
    weights, target = exported
    ref = enhance(DARK, model=load_model(weights, device="cpu"), tile=tile, overlap=8)
    out = enhance(DARK, model=load_model(target), tile=tile, overlap=8)
    assert out.shape == DARK.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - ref).max() <= 1


def test_backend_flag_runs_onnx_from_safetensors(exported, tmp_path):
    weights, target = exported
    Image.fromarray(DARK).save(tmp_path / "in.png")
    assert main(["enhance", str(tmp_path / "in.png"), "-o", str(tmp_path / "t.png"), "--weights", str(weights),
                 "-q"]) == 0
    assert main(["enhance", str(tmp_path / "in.png"), "-o", str(tmp_path / "o.png"), "--weights", str(weights),
                 "--backend", "onnx", "--threads", "1", "-q"]) == 0
    a = np.asarray(Image.open(tmp_path / "t.png")).astype(int)
    b = np.asarray(Image.open(tmp_path / "o.png")).astype(int)
    assert np.abs(a - b).max() <= 1
    assert load_model(weights, backend="onnx").backend == "onnx"


@pytest.mark.parametrize("name, args", [("sid-unet", dict(width=4, depth=2)),
                                        ("curve-unet", dict(width=4, thumb=8, exposure=True, shadows=True, night=True))])
def test_other_models_export_too(tmp_path, name, args):
    """A model without context, and curve-unet with its exposure predictor (which runs inside the graph)."""
    weights = _weights(tmp_path / "m.safetensors", name, **args)
    target = tmp_path / "m.onnx"
    assert main(["export", "--weights", str(weights), "--onnx", str(target)]) == 0
    ref = enhance(DARK, model=load_model(weights, device="cpu"), tile=0)
    out = enhance(DARK, model=load_model(target), tile=0)
    assert np.abs(out.astype(int) - ref).max() <= 1


@pytest.mark.parametrize("extra, message", [
    (["--onnx", "{tmp}/x.png"], "ending in .onnx"),
    (["--onnx", "{tmp}/exists.onnx"], "pass --overwrite"),
    (["--onnx", "{tmp}/y.onnx", "--weights", "{tmp}/exists.onnx"], "already an ONNX file"),
    (["--onnx", "{tmp}/y.onnx", "--weights", "{tmp}/missing.safetensors"], "not found"),
])
def test_export_errors_are_one_line(tmp_path, capsys, extra, message):
    (tmp_path / "exists.onnx").write_bytes(b"x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert (tmp_path / "exists.onnx").read_bytes() == b"x"


def test_loading_a_broken_onnx_file_is_one_line(tmp_path, capsys):
    (tmp_path / "in.png").write_bytes(b"")
    Image.fromarray(DARK).save(tmp_path / "in.png")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    assert main(["enhance", str(tmp_path / "in.png"), "-o", str(tmp_path / "o.png"),
                 "--weights", str(tmp_path / "bad.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a loadable ONNX model" in err and len(err.splitlines()) == 1
    assert main(["enhance", str(tmp_path / "in.png"), "-o", str(tmp_path / "o.png"), "--backend", "onnx",
                 "--device", "cuda"]) == 2
    assert "runs on the CPU" in capsys.readouterr().err


def test_bundled_onnx_twin_matches_the_bundled_weights():
    from lowlight.core.enhancer import DEFAULT_MODEL, bundled_weights
    from lowlight.core.onnx_backend import OnnxNet, weights_digest

    weights = bundled_weights(DEFAULT_MODEL)
    twin = OnnxNet(weights.with_suffix(".onnx"))
    assert twin.metadata["source_sha256"] == weights_digest(weights), "re-export: lowlight export --onnx"
    samples = Path(__file__).resolve().parent.parent / "samples" / "dark"
    dark = np.asarray(Image.open(samples / "lime-3.png").convert("RGB"))
    ref = enhance(dark, model=load_model(None, device="cpu"))
    out = enhance(dark, model=load_model(None, backend="onnx"))
    assert np.abs(out.astype(int) - ref).max() <= 1


def test_benchmark_reports_both_backends(exported, capsys):
    weights, _ = exported
    assert main(["benchmark", "--weights", str(weights), "--threads", "1", "--size", "64x48",
                 "--large", "160x120", "--repeats", "1", "--large-repeats", "1", "--video", "96x64", "--json",
                 "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(v["width"], v["height"], v["frames"]) for v in report["video"]] == [(96, 64, 48)]
    assert report["video"][0]["fps"] > 0
    assert report["model"] == "gain-unet" and report["parameters"] > 0 and report["gmacs"] > 0
    assert [(r["backend"], r["threads"], r["scene"]) for r in report["rows"]] == \
        [("torch", 1, "dark"), ("torch", 1, "night"), ("onnx", 1, "dark"), ("onnx", 1, "night")]
    for row in report["rows"]:
        assert row["latency_ms"] > 0 and row["megapixels_per_s"] > 0
        assert row["large_mp"] == pytest.approx(160 * 120 / 1e6)


def test_benchmark_scenes_are_what_they_say():
    """The night scene is one the default model's very-dark stage acts on; the dark one is not."""
    from lowlight.models.curve_unet import night_weight
    from lowlight.research.benchmark import dark_image, night_image

    for size in ((600, 400), (4000, 3000)):
        assert night_weight(night_image(*size)).item() == 1.0
        assert night_weight(dark_image(*size)).item() == 0.0
