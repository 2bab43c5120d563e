"""Whatever is on a user's disk, however the run ends: nothing lost, nothing crashes.

A corpus of bad and odd images is made here; each gives a correct result or a one-line error
with the right exit code, never a traceback, never a partial output.
"""

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight.core.checkpoint import save_weights
from lowlight.models import create_model

RNG = np.random.default_rng(11)


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lowlight", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def header_only_png(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's calling card)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def make_corpus(root: Path) -> dict[str, str]:
    """Write the corpus; returns file name -> what it must give: 'ok' or a phrase of its error."""
    root.mkdir()
    rgb = RNG.integers(0, 90, (24, 32, 3), dtype=np.uint8)
    cases: dict[str, str] = {}

    def save(name, im, expect="ok", **kw):
        im.save(root / name, **kw)
        cases[name] = expect

    (root / "zero.png").write_bytes(b"")
    cases["zero.png"] = "cannot read image"
    for ext, fmt in ((".png", "PNG"), (".jpg", "JPEG"), (".webp", "WEBP"), (".tif", "TIFF")):
        full = root / f"full{ext}"
        Image.fromarray(rgb).save(full, format=fmt)
        data = full.read_bytes()
        full.unlink()
        (root / f"truncated{ext}").write_bytes(data[: len(data) // 2])
        cases[f"truncated{ext}"] = "cannot read image"
    (root / "notes.jpg").write_text("this is text, not a photo\n")
    cases["notes.jpg"] = "cannot read image"
    header_only_png(root / "bomb.png", 100000, 100000)
    cases["bomb.png"] = "--max-pixels"
    save("row.png", Image.fromarray(rgb[:1]))
    save("column.png", Image.fromarray(rgb[:, :1]))
    save("one.png", Image.fromarray(rgb[:1, :1]))
    save("wide.png", Image.fromarray(np.tile(rgb[:2], (1, 40, 1))))
    palette = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16)
    save("palette.png", palette, transparency=0)
    save("grey-alpha.png", Image.fromarray(np.stack([rgb[..., 0], rgb[..., 1] + 100], -1), "LA"))
    save("grey16.png", Image.fromarray(rgb[..., 0].astype(np.uint16) * 257))
    save("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"))
    frames = [Image.fromarray(np.roll(rgb, k, axis=1)) for k in range(3)]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:])
    cases["anim.gif"] = "ok"
    frames[0].save(root / "anim-webp.webp", save_all=True, append_images=frames[1:], lossless=True)
    cases["anim-webp.webp"] = "ok"
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        save(f"orient-{o}.jpg", Image.fromarray(rgb), exif=exif.tobytes())
    Image.fromarray(rgb).save(root / "really-a-png.jpg", format="PNG")
    cases["really-a-png.jpg"] = "ok"
    return cases


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    cases = make_corpus(tmp / "in")
    torch_seed = __import__("torch").manual_seed(0)  # noqa: F841
    net = create_model("curve-unet", width=4, thumb=8, shadows=False, night=False)
    weights = save_weights(tmp / "tiny.safetensors", net, "curve-unet", {"width": 4, "thumb": 8})
    inputs = [tmp / "in" / name for name in cases]  # named one by one: folders only list image extensions
    result = run("enhance", *inputs, "-o", tmp / "out", "--weights", weights)
    return tmp, cases, result


def test_corpus_gives_results_or_one_line_errors(corpus_run):
    tmp, cases, r = corpus_run
    assert r.returncode == 1, r.stderr  # some files failed, the rest were done
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    for name, expect in cases.items():
        said = [line.split("lowlight: error:", 1)[1] for line in lines if "lowlight: error:" in line]
        mine = [line for line in said if name in line]
        out = list((tmp / "out").glob(f"{Path(name).stem}.*"))
        if expect == "ok":
            assert not mine and len(out) == 1, (name, mine)
            Image.open(out[0]).load()
        else:
            assert len(mine) == 1 and expect in mine[0] and not out, (name, mine, out)
            assert mine[0].count(name) == 1, mine[0]  # the path once, not "bomb.png: bomb.png is ..."
    assert not [p for p in (tmp / "out").iterdir() if p.name.startswith(".")]  # no temporary files left
    assert "anim.gif has 3 frames; the first was enhanced" in r.stderr


def test_corpus_outputs_keep_shape_orientation_alpha_and_depth(corpus_run):
    tmp, _, _ = corpus_run
    out = tmp / "out"
    assert Image.open(out / "row.png").size == (32, 1) and Image.open(out / "column.png").size == (1, 24)
    assert Image.open(out / "one.png").size == (1, 1) and Image.open(out / "wide.png").size == (1280, 2)
    for o in range(1, 9):  # orientations 5-8 swap width and height
        assert Image.open(out / f"orient-{o}.jpg").size == ((24, 32) if o >= 5 else (32, 24)), o
    assert Image.open(out / "grey-alpha.png").mode == "LA" and Image.open(out / "palette.png").mode == "RGBA"
    assert Image.open(out / "grey16.png").mode.startswith("I")
    assert Image.open(out / "anim.png").size == (32, 24)  # the first frame, as a still PNG
    assert Image.open(out / "anim-webp.webp").size == (32, 24)
    src = np.asarray(Image.open(tmp / "in" / "grey-alpha.png"))[..., 1]
    assert np.array_equal(np.asarray(Image.open(out / "grey-alpha.png"))[..., 1], src)  # alpha untouched


def test_max_pixels_raises_the_limit_and_names_it(tmp_path):
    header_only_png(tmp_path / "big.png", 20000, 15000)
    Image.fromarray(RNG.integers(0, 90, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "small.png")
    r = run("enhance", tmp_path, "-o", tmp_path / "out", "--method", "gamma")
    assert r.returncode == 1 and "300 megapixels" in r.stderr and "--max-pixels" in r.stderr
    assert "Traceback" not in r.stderr and "DecompressionBomb" not in r.stderr
    assert (tmp_path / "out" / "small.png").is_file() and not (tmp_path / "out" / "big.png").exists()
    r = run("enhance", tmp_path / "big.png", "-o", tmp_path / "out2", "--method", "gamma", "--max-pixels", "4e8")
    assert "--max-pixels" not in r.stderr and r.returncode == 2  # now it is read, and fails as corrupt
    assert "cannot read image" in r.stderr


def test_rerunning_in_place_skips_its_own_outputs(tmp_path):
    for name in ("a", "b"):
        Image.fromarray(RNG.integers(0, 90, (8, 8, 3), dtype=np.uint8)).save(tmp_path / f"{name}.png")
    assert run("enhance", tmp_path, "--method", "gamma", "-q").returncode == 0
    Image.fromarray(RNG.integers(0, 90, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "c.png")
    r = run("enhance", tmp_path, "--method", "gamma")
    assert r.returncode == 0 and "enhanced 1, skipped 2" in r.stdout, r.stdout + r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.png", "a_enhanced.png", "b.png", "b_enhanced.png", "c.png", "c_enhanced.png"]
    r = run("enhance", str(tmp_path / "*.png"), "--method", "gamma", "--overwrite")
    assert r.returncode == 0 and "enhanced 3, skipped 0" in r.stdout
    assert not list(tmp_path.glob("*_enhanced_enhanced*"))


def test_output_path_errors_say_what_was_asked(tmp_path):
    for name in ("a", "b"):
        Image.fromarray(RNG.integers(0, 90, (8, 8, 3), dtype=np.uint8)).save(tmp_path / f"{name}.png")
    r = run("enhance", tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "file.png", "--method", "gamma")
    assert r.returncode == 2 and "names one file, but 2 inputs" in r.stderr and not (tmp_path / "file.png").exists()
    (tmp_path / "blocker").write_text("a file where a folder should be")
    r = run("enhance", tmp_path / "a.png", "-o", tmp_path / "blocker" / "x.png", "--method", "gamma")
    assert r.returncode == 2 and "blocker" in r.stderr and ".tmp" not in r.stderr and "Errno" not in r.stderr
    r = run("enhance", tmp_path / "a.png", "-o", "/proc/out.png", "--method", "gamma")
    assert r.returncode == 2 and "cannot write /proc/out.png" in r.stderr and ".tmp" not in r.stderr


def test_exit_codes(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(RNG.integers(0, 90, (8, 8, 3), dtype=np.uint8)).save(good)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert run("enhance", good, "-o", tmp_path / "o1", "--method", "gamma").returncode == 0
    assert run("enhance", tmp_path, "-o", tmp_path / "o2", "--method", "gamma").returncode == 1
    r = run("enhance", tmp_path / "bad.png", "-o", tmp_path / "o3", "--method", "gamma")
    assert r.returncode == 2 and r.stderr.count("\n") == 1  # nothing could be done: one line, exit 2
    r = run("enhance", tmp_path, "-o", tmp_path / "o4", "--method", "gamma", "--tile", "64", "--tile-overlap", "128")
    assert r.returncode == 2 and r.stderr.count("larger than the overlap") == 1 and not (tmp_path / "o4").exists()


def test_float_arrays_outside_zero_one_are_refused():
    import lowlight
    from lowlight.errors import LowlightError

    with pytest.raises(LowlightError, match=r"values in \[0, 1\], got 0 to 255"):
        lowlight.enhance(np.linspace(0, 255, 48, dtype=np.float32).reshape(4, 4, 3))


def test_synth_skips_unreadable_photos_and_leaves_no_half_made_folder(tmp_path, photos_tiny):
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in photos_tiny.iterdir():
        (photos / p.name).write_bytes(p.read_bytes())
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    header_only_png(photos / "bomb.png", 100000, 100000)
    r = run("synth", "--photos", photos, "--out", tmp_path / "pairs", "--count", "5", "--size", "32", "-q")
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.count("(skipped)") == 2
    assert (tmp_path / "pairs" / "pairs.jsonl").is_file()
    assert not list(tmp_path.glob(".pairs*"))  # the staging folder is gone
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "x.png").write_bytes(b"junk")
    r = run("synth", "--photos", only_bad, "--out", tmp_path / "none", "--count", "2", "-q")
    assert r.returncode == 2 and not (tmp_path / "none").exists() and not list(tmp_path.glob(".none*"))
