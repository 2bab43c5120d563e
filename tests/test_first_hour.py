"""A new user's first hour (#25): each rough edge, fixed, with the test that failed before."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lowlight
from lowlight.cli import main
from lowlight.errors import LowlightError

HERE = Path(__file__).resolve().parent


def _photo(path: Path, value: int = 40) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((16, 24, 3), value, np.uint8)).save(path)
    return path


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_rerunning_into_an_output_folder_inside_the_input_tree_skips(tmp_path, capsys):
    nest = tmp_path / "nest"
    _photo(nest / "1.png"), _photo(nest / "sub" / "2.png")
    args = ["enhance", str(nest), "-r", "-o", str(nest / "out"), "--method", "gamma", "-q"]
    assert main(args) == 0
    assert main(args) == 0  # was exit 2: "output nest/out/1.png would overwrite an input"
    assert sorted(p.name for p in (nest / "out").rglob("*.png")) == ["1.png", "2.png"]


def test_synth_refuses_to_replace_an_earlier_dataset(tmp_path, capsys):
    photos = HERE / "data" / "photos"
    out = tmp_path / "syn"
    assert main(["synth", "--photos", str(photos), "--out", str(out), "--count", "3", "--size", "32", "-q"]) == 0
    capsys.readouterr()
    assert main(["synth", "--photos", str(photos), "--out", str(out), "--count", "2", "--size", "32", "-q"]) == 2
    assert "already holds 3 synthetic pairs; pass --overwrite" in _one_error(capsys)
    assert len(list((out / "low").iterdir())) == 3
    assert main(["synth", "--photos", str(photos), "--out", str(out), "--count", "2", "--size", "32", "-q",
                 "--overwrite"]) == 0
    assert len(list((out / "low").iterdir())) == 2


def test_a_folder_of_subfolders_suggests_r(tmp_path, capsys):
    _photo(tmp_path / "trip" / "day1" / "a.png")
    assert main(["enhance", str(tmp_path / "trip"), "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "pass -r" in _one_error(capsys)


def test_suffix_with_a_separator_and_raw_exposure_on_a_png_are_refused(tmp_path, capsys):
    src = _photo(tmp_path / "1.png")
    assert main(["enhance", str(src), "--suffix", "/x", "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "path separator" in _one_error(capsys) and not (tmp_path / "out").exists()
    assert main(["enhance", str(src), "--raw-exposure", "2", "-o", str(tmp_path / "o.png"), "-q"]) == 2
    assert "applies to camera RAW files" in _one_error(capsys)


def test_messages_give_small_sizes_and_name_the_path_once(tmp_path, capsys):
    src = tmp_path / "big.png"
    Image.fromarray(np.zeros((680, 720, 3), np.uint8)).save(src)
    assert main(["enhance", str(src), "--max-pixels", "1000", "-o", str(tmp_path / "o.png"), "-q",
                 "--method", "gamma"]) == 2
    line = _one_error(capsys)
    assert "(0.49 megapixels), over the limit of 0.001 megapixels" in line and line.count(str(src)) == 1
    _photo(tmp_path / "clash" / "a.png"), _photo(tmp_path / "clash" / "a.jpg")
    assert main(["enhance", str(tmp_path / "clash"), "-o", str(tmp_path / "c"), "--ext", "png", "-q"]) == 2
    assert "--ext gives them the same name" in _one_error(capsys)


def test_ctrl_c_says_how_many_files_were_done(tmp_path, capsys, monkeypatch):
    import lowlight.core.enhancer as enhancer_mod

    for i in range(4):
        _photo(tmp_path / "in" / f"{i}.png")
    real, calls = enhancer_mod.enhance_photo, []

    def interrupt_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(enhancer_mod, "enhance_photo", interrupt_third)
    monkeypatch.setattr("lowlight.cli.enhance.enhance_photo", interrupt_third, raising=False)
    code = main(["enhance", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--method", "gamma", "-q"])
    assert code == 130 and "interrupted after 2 of 4 files" in capsys.readouterr().err
    assert len(list((tmp_path / "out").iterdir())) == 2


def test_unknown_and_unbundled_models_suggest_only_what_loads(capsys):
    with pytest.raises(LowlightError) as unknown:
        lowlight.load_model("nope")
    assert "models with bundled weights: curve-unet" in str(unknown.value) and "sid-unet" not in str(unknown.value)
    with pytest.raises(LowlightError, match="--weights bench/weights/gain-unet-v1.safetensors"):
        lowlight.load_model("gain-unet")


def test_python_api_edges():
    with pytest.raises(LowlightError, match="epochs must be a whole number, got 'five'"):
        lowlight.train(lowlight.TrainConfig(data="x", epochs="five"))
    with pytest.raises(LowlightError, match="got a list"):
        lowlight.enhance([[1, 2, 3]])
    text = repr(lowlight.load_model())
    assert "\n" not in text and len(text) < 120 and "curve-unet" in text and "0.65M" in text


def test_resuming_a_finished_run_says_nothing_was_trained(lol_tiny, tmp_path):
    from lowlight.training.config import TrainConfig, apply
    from lowlight.training.loop import train

    cfg = apply(TrainConfig(), dict(data=str(lol_tiny), val_data=str(lol_tiny), out=str(tmp_path / "r"),
                                    model="sid-unet", model_args={"width": 4, "depth": 1}, crop=32, epochs=1,
                                    device="cpu"))
    train(cfg, log=lambda s: None, progress=False)
    said = []
    train(cfg, resume=True, log=said.append, progress=False)
    assert any("nothing to train" in line and "--epochs" in line for line in said)
    assert not any(line.startswith("training ") for line in said)
