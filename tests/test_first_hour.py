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
    assert "\n" not in text and len(text) < 120 and "curve-unet" in text and "0.66M" in text


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


# -- 17: the core install holds what `lowlight enhance` needs, the rest comes with extras --------
OPTIONAL = ("cv2", "scipy", "matplotlib")
def _core_cli(*args: str, blocked: tuple = OPTIONAL):
    """The CLI in a fresh interpreter with ``blocked`` made unimportable, as on a core install."""
    import subprocess
    import sys

    code = (f"import sys; sys.modules.update({{m: None for m in {blocked!r}}}); from lowlight.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_enhance_needs_no_opencv_scipy_or_matplotlib(tmp_path):
    """The README's enhance command on 8- and 16-bit photos, with the optional packages blocked:
    16-bit PNG and TIFF are read and written at 16 bits without OpenCV."""
    import tifffile

    rng = np.random.default_rng(0)
    deep = (rng.random((24, 32, 3)) * 8000).astype(np.uint16)
    from lowlight.media.photo import Photo, encode_photo, read_photo

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "deep.png").write_bytes(encode_photo(Photo(deep, bits=16), ".png"))
    tifffile.imwrite(tmp_path / "in" / "deep.tif", deep, photometric="rgb")
    _photo(tmp_path / "in" / "plain.jpg", 30)
    done = _core_cli("enhance", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q")
    assert done.returncode == 0, done.stderr
    for name in ("deep.png", "deep.tif"):
        out = read_photo(tmp_path / "out" / name)
        assert out.bits == 16 and out.rgb.shape == (24, 32, 3)
        assert np.unique(out.rgb).size > 256  # really 16 bits, not 8 bits scaled up
    assert (tmp_path / "out" / "plain.jpg").is_file()


@pytest.mark.parametrize("args, extra", [
    (["enhance", "IN", "--method", "clahe"], "classical"),
    (["enhance", "IN", "--method", "lime"], "classical"),
    (["train", "--data", "IN", "--epochs", "1"], "train"),
])
def test_what_needs_an_extra_names_it_in_one_line(tmp_path, args, extra):
    _photo(tmp_path / "in" / "a.png")
    done = _core_cli(*[str(tmp_path / "in") if a == "IN" else a for a in args], "-o" if args[0] == "enhance" else
                     "--out", str(tmp_path / "out"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in lines[0], done.stderr
    assert f"pip install 'lowlight[{extra}]'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_an_lzw_16bit_tiff_without_imagecodecs_names_the_extra(tmp_path):
    """tifffile decodes uncompressed and Deflate TIFFs itself, LZW (OpenCV's and many editors'
    default) only with imagecodecs: one line naming the extra, never an 8-bit read."""
    import tifffile

    pytest.importorskip("imagecodecs", reason="writing the LZW test file needs imagecodecs")
    deep = (np.random.default_rng(1).random((16, 16, 3)) * 60000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "lzw.tif", deep, photometric="rgb", compression="lzw")
    done = _core_cli("enhance", str(tmp_path / "lzw.tif"), "-o", str(tmp_path / "out.tif"), "-q",
                     blocked=OPTIONAL + ("imagecodecs",))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "16-bit LZW-compressed TIFF" in lines[0] and "pip install 'lowlight[formats]'" in lines[0]
    assert main(["enhance", str(tmp_path / "lzw.tif"), "-o", str(tmp_path / "out.tif"), "-q"]) == 0  # with it


def test_the_core_dependencies_leave_out_the_heavy_optional_packages():
    """pyproject: no OpenCV, SciPy or matplotlib in the core; `[test]` holds every extra's packages,
    so the README's test command runs every test."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]

    def names(reqs):
        return {r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip().lower() for r in reqs}

    core = names(project["dependencies"])
    assert not core & {"opencv-python-headless", "opencv-python", "scipy", "matplotlib"}, core
    extras = project["optional-dependencies"]
    every = set().union(*(names(v) for k, v in extras.items() if k != "test"))
    assert every <= names(extras["test"]), every - names(extras["test"])
