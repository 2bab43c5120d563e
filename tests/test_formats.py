"""Phone HEIC and AVIF, camera RAW (a DNG made here) and video (a clip made here): read, enhance,
write, with depth and metadata kept, and a one-line error for what is broken or not installed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight.cli import main
from lowlight.errors import LowlightError
from lowlight.media.photo import read_photo, write_photo

ORIENTATION, MAKE = 0x0112, 0x010F
ICC = b"\x00\x00\x02\x0clowl" + bytes(512)  # not parsed by the writers: carried as bytes


@pytest.fixture
def tiny_weights(tmp_path):
    from lowlight.core.checkpoint import save_weights
    from lowlight.models import create_model

    net = create_model("curve-unet", width=4, thumb=8, shadows=False, night=False)
    return save_weights(tmp_path / "tiny.safetensors", net, "curve-unet", {"width": 4, "thumb": 8})


def _dark(h=48, w=64, seed=0):
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 70, w)[None, :, None] * np.array([1.0, 0.8, 0.6])
    return np.clip(ramp + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)


def _exif(orientation=1):
    exif = Image.Exif()
    exif[MAKE], exif[ORIENTATION] = "lowlight-test", orientation
    return exif.tobytes()


# -- HEIC / AVIF ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".heic", ".avif"])
def test_heic_and_avif_enhance_keeping_exif_and_icc(tmp_path, tiny_weights, ext):
    import pillow_heif  # noqa: F401  (registers nothing by itself; lowlight.media.photo registers the opener)

    from lowlight.media.files import heif_available

    assert heif_available()
    src = tmp_path / f"phone{ext}"
    Image.fromarray(_dark()).save(src, quality=90, exif=_exif(), icc_profile=ICC)
    out = tmp_path / "out"
    assert main(["enhance", str(src), "-o", str(out), "--weights", str(tiny_weights), "-q"]) == 0
    result = out / f"phone{ext}"
    with Image.open(result) as im:
        assert im.format == ("HEIF" if ext == ".heic" else "AVIF") and im.size == (64, 48)
        assert im.getexif().get(MAKE) == "lowlight-test"
        assert im.info.get("icc_profile") == ICC
    photo = read_photo(result)
    assert photo.rgb.mean() > read_photo(src).rgb.mean()  # it was enhanced, not copied


def test_heic_orientation_gives_upright_pixels(tmp_path):
    src = tmp_path / "turned.heic"
    Image.fromarray(_dark(40, 60)).save(src, quality=90, exif=_exif(orientation=6))
    photo = read_photo(src)
    assert photo.rgb.shape[:2] == (60, 40)  # rotated by the container's transform, once
    out = tmp_path / "again.heic"
    write_photo(photo, out)
    assert read_photo(out).rgb.shape[:2] == (60, 40)  # written upright: not turned a second time


def test_16_bit_photo_to_heic_keeps_more_than_8_bits(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 96).astype(np.uint16)[None, :, None], (32, 1, 3))
    png = tmp_path / "deep.png"
    write_photo(read_photo_from_array(ramp), png)
    heic = tmp_path / "deep.heic"
    write_photo(read_photo(png), heic)
    back = read_photo(heic)
    assert back.bits == 16
    levels = np.unique(np.round(back.rgb[16, :, 1] * 65535))
    assert len(levels) > 90 and np.abs(back.rgb - ramp / 65535).max() < 0.02
    assert (np.round(back.rgb * 65535) % 257 != 0).any()  # not 8-bit values stretched to 16


def read_photo_from_array(array):
    from lowlight.media.photo import split_array

    return split_array(array)


def test_heic_without_pillow_heif_names_the_extra(tmp_path, monkeypatch, capsys):
    import lowlight.media.files as photo_mod  # where the pillow-heif switch lives

    assert photo_mod.heif_available()  # registered, so the test file can be written
    Image.init()  # every plugin loaded before ID and OPEN are swapped, so none is lost when they return
    src = tmp_path / "phone.heic"
    Image.fromarray(_dark()).save(src, quality=90)
    monkeypatch.setattr(photo_mod, "_HEIF", False)
    monkeypatch.setattr(Image, "OPEN", {k: v for k, v in Image.OPEN.items() if k != "HEIF"})
    monkeypatch.setattr(Image, "ID", [i for i in Image.ID if i != "HEIF"])
    with pytest.raises(LowlightError, match=r"pip install 'lowlight\[heif\]'"):
        read_photo(src)
    with pytest.raises(LowlightError, match=r"lowlight\[heif\]"):
        write_photo(read_photo_from_array(_dark()), tmp_path / "x.heic")


# -- camera RAW ----------------------------------------------------------------------------------
def _linear(h=48, w=64):
    x = np.linspace(0.0, 0.7, w)[None, :, None] * np.array([0.4, 0.7, 1.0])  # under 75% of white (LibRaw)
    return np.repeat(x, h, axis=0)


def test_dng_reads_as_16_bit_srgb_of_its_linear_data(tmp_path):
    from lowlight.color import linear_to_srgb
    from lowlight.media.raw import synthetic_dng

    linear = _linear()
    photo = read_photo(synthetic_dng(tmp_path / "frame.dng", linear))
    assert photo.bits == 16 and photo.rgb.shape == (48, 64, 3) and photo.source_format == "RAW"
    inner = (slice(4, -4), slice(4, -4))  # demosaicking blurs the border
    assert np.abs(photo.rgb[inner] - linear_to_srgb(linear)[inner]).max() < 0.01
    brighter = read_photo(tmp_path / "frame.dng", raw_exposure=1.0)
    assert np.allclose(brighter.rgb[inner], linear_to_srgb(np.clip(linear * 2, 0, 1))[inner], atol=0.01)


def test_dng_enhances_to_a_16_bit_png_with_exif_and_tiff_or_jpeg_on_request(tmp_path, tiny_weights):
    import tifffile

    from lowlight.media.raw import synthetic_dng

    synthetic_dng(tmp_path / "frame.dng", _linear() * 0.1, make="Lowlight Cam")
    out = tmp_path / "out"
    assert main(["enhance", str(tmp_path / "frame.dng"), "-o", str(out), "--weights", str(tiny_weights),
                 "--raw-exposure", "1", "-q"]) == 0
    png = read_photo(out / "frame.png")
    assert png.bits == 16 and png.rgb.shape == (48, 64, 3)
    assert (np.round(png.rgb * 65535) % 257 != 0).any()  # 16 bits of data, not 8 stretched
    assert Image.open(out / "frame.png").getexif().get(MAKE) == "Lowlight Cam"  # the RAW file's EXIF
    assert main(["enhance", str(tmp_path / "frame.dng"), "-o", str(out), "--ext", "tif",
                 "--weights", str(tiny_weights), "-q"]) == 0
    tif = tifffile.imread(out / "frame.tif")
    assert tif.dtype == np.uint16 and tif.shape == (48, 64, 3)
    assert main(["enhance", str(tmp_path / "frame.dng"), "-o", str(out), "--ext", "jpg",
                 "--weights", str(tiny_weights), "-q"]) == 0
    assert Image.open(out / "frame.jpg").format == "JPEG"


def test_corrupt_raw_is_one_line_error(tmp_path, tiny_weights, capsys):
    from lowlight.media.raw import synthetic_dng

    good = synthetic_dng(tmp_path / "good.dng", _linear()).read_bytes()
    (tmp_path / "cut.dng").write_bytes(good[:400])
    (tmp_path / "text.nef").write_bytes(b"not a raw file at all " * 20)
    for name in ("cut.dng", "text.nef"):
        assert main(["enhance", str(tmp_path / name), "-o", str(tmp_path / "out"),
                     "--weights", str(tiny_weights), "-q"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot read camera RAW file" in err[0] and "Traceback" not in err[0]


def test_missing_rawpy_and_av_name_their_extras(tmp_path, monkeypatch):
    from lowlight.media.photo import decode_photo
    from lowlight.media.video import VideoOptions, enhance_video

    monkeypatch.setitem(sys.modules, "rawpy", None)
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(LowlightError, match=r"lowlight\[raw\]"):
        decode_photo(b"II*\x00", name=str(tmp_path / "x.dng"))
    with pytest.raises(LowlightError, match=r"lowlight\[video\]"):
        enhance_video(None, tmp_path / "x.mp4", tmp_path / "y.mp4", video=VideoOptions())


# -- video ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """24 frames at 12 fps, 128x80, a pan across a dark sample photo with noise, a light on for
    frames 8-11, a display rotation of 90 degrees and a mono audio track."""
    from lowlight.media.photo import read_image
    from lowlight.media.video import make_clip

    photo = read_image(Path(__file__).parents[1] / "samples" / "dark" / "dicm-03.jpg")
    return make_clip(tmp_path_factory.mktemp("clip") / "dark.mp4", photo, frames=24, size=(128, 80), rotation=90)


def _describe(path):
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        first = next(c.decode(video=0))
        return dict(size=(v.width, v.height), rate=v.average_rate, rotation=first.rotation,
                    audio=[a.codec_context.name for a in c.streams.audio])


def test_video_keeps_rate_size_rotation_audio_and_every_frame(tmp_path, clip, tiny_weights):
    from lowlight.media.video import frame_lumas

    out = tmp_path / "bright.mp4"
    assert main(["enhance", str(clip), "-o", str(out), "--weights", str(tiny_weights), "--crf", "20", "-q"]) == 0
    assert _describe(out) == _describe(clip)
    before, after = frame_lumas(clip), frame_lumas(out)
    assert len(after) == len(before) == 24 and after.mean() > before.mean()
    assert main(["enhance", str(clip), "-o", str(out), "--weights", str(tiny_weights), "-q"]) == 0  # skipped
    assert not list(tmp_path.glob(".*tmp"))  # written atomically: no temporary file left


def test_video_brightness_does_not_flicker(clip, tmp_path):
    """The bundled model: the output's frame-to-frame flicker at most the input's + 0.5 points,
    over the whole clip (a light goes on and off) and over its steady first 8 frames."""
    from lowlight.core.enhancer import load_model
    from lowlight.research.metrics import flicker
    from lowlight.media.video import enhance_video, frame_lumas

    out = enhance_video(load_model(), clip, tmp_path / "steady.mp4")
    before, after = frame_lumas(clip), frame_lumas(out)
    assert flicker(after) <= flicker(before) + 0.5
    assert flicker(after[:8]) <= flicker(before[:8]) + 0.5


def test_video_smoothing_steadies_a_noisy_model(clip, tmp_path):
    """An enhancer whose brightening jitters from frame to frame: the smoother removes the jitter."""
    from lowlight.core.contract import Enhances
    from lowlight.media.video import VideoOptions, enhance_video, frame_lumas
    from lowlight.research.metrics import flicker

    class Jittery(Enhances):  # one frame at a time (not batched), as a classical method runs
        name, batched, tiles, takes_brightness = "jittery", False, False, False
        calls = 0

        def render(self, x, options):
            assert x.shape[0] == 1
            Jittery.calls += 1
            return x * (4.0 + (Jittery.calls % 2))  # x4 and x5 in turn

    raw = frame_lumas(enhance_video(Jittery(), clip, tmp_path / "a.mp4", video=VideoOptions(smoothing=0)))
    steady = frame_lumas(enhance_video(Jittery(), clip, tmp_path / "b.mp4", video=VideoOptions(smoothing=1.0)))
    assert flicker(steady[:8]) < flicker(raw[:8]) / 3


def test_video_frames_go_in_bounded_batches(clip, tmp_path, tiny_weights):
    from lowlight.core.enhancer import load_model
    from lowlight.media.video import VideoOptions, enhance_video

    sizes = []
    enhance_video(load_model(tiny_weights), clip, tmp_path / "o.mkv", video=VideoOptions(batch=5),
                  on_frames=sizes.append)
    assert sum(sizes) == 24 and max(sizes) <= 5


def test_python_api_takes_a_video_path_and_returns_the_output(clip, tmp_path, tiny_weights):
    import shutil

    import lowlight

    src = shutil.copy(clip, tmp_path / "walk.mp4")
    out = lowlight.enhance(src, model=str(tiny_weights))
    assert out == tmp_path / "walk_enhanced.mp4" and out.is_file()
    with pytest.raises(LowlightError, match="exists"):
        lowlight.enhance(src, model=str(tiny_weights))


def test_broken_video_is_one_line_error(tmp_path, clip, tiny_weights, capsys):
    (tmp_path / "cut.mp4").write_bytes(clip.read_bytes()[:2000])
    (tmp_path / "text.mov").write_bytes(b"no video here" * 50)
    for name in ("cut.mp4", "text.mov"):
        assert main(["enhance", str(tmp_path / name), "-o", str(tmp_path / "out"),
                     "--weights", str(tiny_weights), "-q"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "video" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out" / "cut.mp4").exists()


def test_video_to_an_image_name_is_refused(clip, tmp_path, tiny_weights, capsys):
    assert main(["enhance", str(clip), "-o", str(tmp_path / "x.png"), "--weights", str(tiny_weights)]) == 2
    assert "not a video format" in capsys.readouterr().err


def test_bad_codec_and_raw_exposure_are_refused_up_front(clip, tmp_path, tiny_weights, capsys):
    out = tmp_path / "done.mp4"
    out.write_bytes(b"an earlier output")  # even when every output exists, a bad flag is an error
    assert main(["enhance", str(clip), "-o", str(out), "--codec", "nope", "--weights", str(tiny_weights)]) == 2
    assert "unknown video encoder 'nope'" in capsys.readouterr().err
    assert main(["enhance", str(clip), "-o", str(tmp_path / "x"), "--raw-exposure", "99",
                 "--weights", str(tiny_weights)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lowlight: error: --raw-exposure must be between -10 and 16 stops, got 99"]


def test_a_webm_target_leaves_out_aac_audio_with_a_note(clip, tmp_path, tiny_weights, capsys):
    """A clip with AAC audio written as .webm (which carries Opus or Vorbis only): the video is
    enhanced, the sound left out, and the user told so (it failed with an FFmpeg error)."""
    av = pytest.importorskip("av")
    target = tmp_path / "clip.webm"
    assert main(["enhance", str(clip), "-o", str(target), "--weights", str(tiny_weights), "-q"]) == 0
    assert "cannot carry aac audio" in capsys.readouterr().err
    with av.open(str(target)) as c:
        assert len(c.streams.video) == 1 and not c.streams.audio
