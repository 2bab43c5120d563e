"""The command line as a user meets it: one end-to-end run and the error paths."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lowlight.cli import main


def run(*args):
    """Run the CLI in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "lowlight", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
def test_end_to_end_synth_train_evaluate_enhance(photos_tiny, lol_tiny, tmp_path, capsys):
    synth = tmp_path / "synth"
    assert main(["synth", "--photos", str(photos_tiny), "--out", str(synth), "--count", "6",
                 "--size", "64", "-q"]) == 0
    run_dir = tmp_path / "run"
    assert main(["train", "--data", str(synth), "--out", str(run_dir), "--width", "4", "--depth", "2",
                 "--epochs", "1", "--crop", "32", "--batch-size", "4", "--device", "cpu", "-q"]) == 0
    weights = run_dir / "best.safetensors"
    assert weights.is_file()
    capsys.readouterr()
    assert main(["evaluate", "--data", str(lol_tiny), "--weights", str(weights), "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"psnr", "ssim", "images"} <= set(report) and len(report["images"]) == 3
    assert np.isfinite(report["psnr"]) and -1 <= report["ssim"] <= 1
    out = tmp_path / "enhanced"
    assert main(["enhance", str(lol_tiny / "low"), "-o", str(out), "--weights", str(weights), "-q"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["1.png", "111.png", "22.png"]
    assert Image.open(out / "1.png").size == (64, 48)


@pytest.fixture
def weights(lol_tiny, tmp_path):
    import torch

    from lowlight.core.checkpoint import save_weights
    from lowlight.models import create_model
    torch.manual_seed(0)
    path = tmp_path / "w.safetensors"
    save_weights(path, create_model("sid-unet", width=4, depth=1), "sid-unet", {"width": 4, "depth": 1})
    return path


def test_enhance_single_file_to_named_output(lol_tiny, weights, tmp_path):
    dst = tmp_path / "x.jpg"
    assert main(["enhance", str(lol_tiny / "low" / "1.png"), "-o", str(dst), "--weights", str(weights),
                 "-q"]) == 0
    assert Image.open(dst).format == "JPEG"


def test_enhance_refuses_to_overwrite_its_input(lol_tiny, weights, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.png").write_bytes((lol_tiny / "low" / "1.png").read_bytes())
    before = (src / "a.png").read_bytes()
    r = run("enhance", src, "-o", src, "--weights", weights)
    assert r.returncode == 2 and "would overwrite an input" in r.stderr
    assert (src / "a.png").read_bytes() == before


@pytest.mark.parametrize("args,message", [
    (["enhance", "missing.png", "-o", "out"], "input not found"),
    (["evaluate", "--data", "nowhere", "--weights", "w.safetensors"], "dataset folder not found"),
    (["train", "--data", "nowhere", "--out", "r"], "dataset folder not found"),
    (["train", "--out", "r"], "no training data given"),
    (["train", "--resume", "r"], "nothing to resume"),
    (["train", "--data", ".", "--set", "lerning_rate=1"], "unknown setting"),
    (["synth", "--photos", "nowhere", "--out", "o"], "photo folder not found"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, message):
    r = subprocess.run([sys.executable, "-m", "lowlight", *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "r").exists()


def test_corrupt_image_is_reported_in_one_line_and_the_rest_written(lol_tiny, weights, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.png").write_bytes((lol_tiny / "low" / "1.png").read_bytes())
    (src / "b.png").write_bytes(b"\x89PNG broken")
    r = run("enhance", src, "-o", tmp_path / "out", "--weights", weights)
    assert r.returncode == 1 and "cannot read image" in r.stderr and "b.png" in r.stderr
    assert "Traceback" not in r.stderr and "failed 1" in r.stdout
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]


def test_missing_and_foreign_weights(lol_tiny, tmp_path):
    r = run("evaluate", "--data", lol_tiny, "--weights", tmp_path / "nope.safetensors")
    assert r.returncode == 2 and "weights file not found" in r.stderr
    r = run("enhance", lol_tiny / "low", "-o", tmp_path / "o", "--model", "sid-unet")
    assert r.returncode == 2 and "ships no weights in the package" in r.stderr


def test_models_lists_the_registry():
    r = run("models")
    assert r.returncode == 0
    assert "seed-unet" in r.stdout and "129.98M" in r.stdout and "sid-unet" in r.stdout


@pytest.mark.parametrize("argv", [["--help"], ["enhance", "--help"], ["train", "--help"], ["--version"]])
def test_help_and_version_do_not_import_torch(argv):
    code = ("import sys\nfrom lowlight.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == "NO-TORCH" and ("usage" in r.stdout or "lowlight " in r.stdout)


def test_two_inputs_that_map_to_one_output_are_refused(tmp_path, lol_tiny):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "x.png").write_bytes((lol_tiny / "low" / "1.png").read_bytes())
    r = run("enhance", tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "-o", tmp_path / "out", "--method", "gamma")
    assert r.returncode == 2 and "would both be written to" in r.stderr and not (tmp_path / "out").exists()


def test_train_flags_fill_the_config_and_resume_limits_changes(tmp_path):
    from lowlight.cli import build_parser, build_train_config
    from lowlight.errors import LowlightError
    parse = build_parser().parse_args
    cfg = build_train_config(parse(["train", "--recipe", "seed", "--data", "d", "--clip-norm", "0",
                                    "--width", "8", "--set", "ensemble=2"]))
    assert cfg.model == "seed-unet" and cfg.clip_norm is None and cfg.model_args == {"width": 8}
    assert cfg.ensemble == 2 and cfg.gamma == 2.2 and cfg.lr == 1e-4
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": cfg.to_dict()}))
    resumed = build_train_config(parse(["train", "--resume", str(run), "--epochs", "50"]))
    assert resumed.epochs == 50 and resumed.out == str(run) and resumed.resize == (150, 150)
    with pytest.raises(LowlightError, match="cannot change lr when resuming"):
        build_train_config(parse(["train", "--resume", str(run), "--lr", "1"]))


def test_classical_method_in_evaluate_and_enhance(lol_tiny, tmp_path, capsys):
    assert main(["evaluate", "--data", str(lol_tiny), "--method", "gamma", "--method-arg", "gamma=2.2",
                 "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    from lowlight.core.classical import make_method
    from lowlight.media.pairs import find_pairs
    from lowlight.research.evaluation import evaluate
    assert report["model"] == "gamma"
    assert report["psnr"] == pytest.approx(evaluate(make_method("gamma"), find_pairs(lol_tiny)).mean["psnr"])
    assert main(["enhance", str(lol_tiny / "low" / "1.png"), "-o", str(tmp_path / "c.png"),
                 "--method", "clahe", "-q"]) == 0
    assert (tmp_path / "c.png").is_file()
    r = run("enhance", lol_tiny / "low", "-o", tmp_path / "o", "--method", "clahe", "--method-arg", "clip=1")
    assert r.returncode == 2 and "no parameter 'clip'" in r.stderr
    r = run("evaluate", "--data", lol_tiny, "--method", "gamma", "--weights", "x.safetensors")
    assert r.returncode == 2 and "leave out --model and --weights" in r.stderr


def test_enhance_rejects_an_unknown_output_extension(lol_tiny, tmp_path):
    r = run("enhance", lol_tiny / "low" / "1.png", "-o", tmp_path / "out.gif", "--method", "gamma")
    assert r.returncode == 2 and "unknown image extension '.gif'" in r.stderr
    assert not (tmp_path / "out.gif").exists()


@pytest.fixture
def folder(tmp_path):
    """Three small dark photos, one in a subfolder, and one corrupt file."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg", "sub/c.png"):
        Image.fromarray(rng.integers(0, 40, (20, 28, 3), dtype=np.uint8)).save(root / name)
    (root / "broken.png").write_bytes(b"\x89PNG truncated")
    return root


def test_folder_with_a_corrupt_file_goes_on_and_exits_1(folder, weights, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["enhance", str(folder), "-o", str(out), "--weights", str(weights), "-q"]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg"]
    assert "broken.png" in capsys.readouterr().err


def test_existing_outputs_are_skipped_unless_overwrite(folder, weights, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"keep me")
    args = ["enhance", str(folder / "a.png"), str(folder / "b.jpg"), "-o", str(out), "--weights", str(weights), "-q"]
    assert main(args) == 0
    assert (out / "a.png").read_bytes() == b"keep me" and (out / "b.jpg").is_file()
    assert main(args + ["--overwrite"]) == 0
    assert Image.open(out / "a.png").size == (28, 20)


def test_recursive_mirrors_subfolders_and_globs_work(folder, weights, tmp_path):
    out = tmp_path / "out"
    assert main(["enhance", str(folder), "-r", "-o", str(out), "--ext", "webp", "--weights", str(weights),
                 "-q"]) == 1  # broken.png still fails
    assert (out / "sub" / "c.webp").is_file() and (out / "a.webp").is_file()
    out2 = tmp_path / "out2"
    assert main(["enhance", str(folder / "*.png"), "-o", str(out2), "--weights", str(weights), "-q"]) == 1
    assert sorted(p.name for p in out2.iterdir()) == ["a.png"]


def test_without_output_writes_next_to_inputs_with_a_suffix(folder, weights):
    assert main(["enhance", str(folder / "a.png"), "--weights", str(weights), "-q"]) == 0
    assert (folder / "a_enhanced.png").is_file()
    assert main(["enhance", str(folder / "a.png"), "--suffix", "", "--weights", str(weights), "-q"]) == 2


def test_strength_zero_gives_back_the_input(folder, weights, tmp_path):
    dst = tmp_path / "same.png"
    assert main(["enhance", str(folder / "a.png"), "-o", str(dst), "--strength", "0", "--weights",
                 str(weights), "-q"]) == 0
    assert np.array_equal(np.asarray(Image.open(dst)), np.asarray(Image.open(folder / "a.png")))
    r = run("enhance", folder / "a.png", "-o", tmp_path / "x.png", "--strength", "2", "--weights", weights)
    assert r.returncode == 2 and "strength must be between 0 and 1" in r.stderr and "Traceback" not in r.stderr
