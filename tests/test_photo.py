"""Photo files and arrays: formats, bit depth, alpha, grey, orientation and metadata survive."""

import numpy as np
import pytest
from PIL import Image, ImageOps

from lowlight.errors import LowlightError
from lowlight.media.photo import from_pil, join_array, read_photo, split_array, to_pil, write_photo

RNG = np.random.default_rng(0)
RGB8 = RNG.integers(0, 256, (12, 17, 3), dtype=np.uint8)
RGB16 = RNG.integers(0, 65536, (12, 17, 3), dtype=np.uint16)
ICC = b"\x00\x00\x02\x0cfake-icc-profile-bytes" * 4


def _exif(**tags) -> bytes:
    exif = Image.Exif()
    for key, value in tags.items():
        exif[{"orientation": 0x0112, "make": 0x010F}[key]] = value
    return exif.tobytes()


@pytest.mark.parametrize("ext", [".png", ".tif", ".bmp", ".webp"])
def test_8bit_lossless_formats_round_trip(tmp_path, ext):
    src = tmp_path / f"a{ext}"
    Image.fromarray(RGB8).save(src, **({"lossless": True} if ext == ".webp" else {}))
    photo = read_photo(src)
    assert photo.bits == 8 and not photo.grey and photo.alpha is None
    out = tmp_path / f"b{ext}"
    write_photo(photo, out)
    assert photo.lossless and np.array_equal(np.asarray(Image.open(out).convert("RGB")), RGB8)


def test_webp_stays_lossy_when_the_source_was(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (48, 1, 3))
    Image.fromarray(smooth).save(tmp_path / "lossy.webp", quality=80)
    photo = read_photo(tmp_path / "lossy.webp")
    assert not photo.lossless and not read_photo_jpeg(tmp_path).lossless
    write_photo(photo, tmp_path / "again.webp")
    head = (tmp_path / "again.webp").read_bytes()[12:16]
    assert head in (b"VP8 ", b"VP8X") and b"VP8L" not in (tmp_path / "again.webp").read_bytes()[:64]


def read_photo_jpeg(tmp_path):
    Image.fromarray(RGB8).save(tmp_path / "x.jpg")
    return read_photo(tmp_path / "x.jpg")


def test_16bit_grey_reads_as_16bit_whatever_its_values(tmp_path):
    """A 16-bit grey pixel of 200/65535 is 200/65535, not 200/255, and its neighbours do not
    change how it reads (the old dataset reader scaled by the image's maximum)."""
    from lowlight.media.photo import read_image

    dim = np.full((4, 5), 200, dtype=np.uint16)
    Image.fromarray(dim).save(tmp_path / "dim.png")
    with_bright = dim.copy()
    with_bright[0, 0] = 1000
    Image.fromarray(with_bright).save(tmp_path / "bright.png")
    assert np.allclose(read_photo(tmp_path / "dim.png").rgb, 200 / 65535, atol=1e-7)
    a, b = read_image(tmp_path / "dim.png"), read_image(tmp_path / "bright.png")
    assert a.shape == (4, 5, 3) and (a == 1).all()  # round(200 / 65535 * 255) = 1
    assert (b[1:] == 1).all() and b[0, 0, 0] == 4


def test_jpeg_quality_option_changes_the_file(tmp_path):
    photo = split_array(RGB8)
    small, big = write_photo(photo, tmp_path / "q10.jpg", quality=10), write_photo(photo, tmp_path / "q95.jpg")
    assert small.stat().st_size < big.stat().st_size
    with pytest.raises(LowlightError, match="quality"):
        write_photo(photo, tmp_path / "bad.jpg", quality=0)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_colour_keeps_its_depth(tmp_path, ext):
    import cv2

    src = tmp_path / f"deep{ext}"
    cv2.imwrite(str(src), RGB16[..., ::-1])
    photo = read_photo(src)
    assert photo.bits == 16
    assert np.array_equal(np.round(photo.rgb * 65535).astype(np.uint16), RGB16)
    out = tmp_path / f"out{ext}"
    write_photo(photo, out)
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(back[..., ::-1], RGB16)
    jpg = write_photo(photo, tmp_path / "out.jpg")  # JPEG holds 8 bits
    assert Image.open(jpg).mode == "RGB"


def test_16bit_grey_png(tmp_path):
    grey = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)
    Image.fromarray(grey).save(tmp_path / "g.png")
    photo = read_photo(tmp_path / "g.png")
    assert photo.grey and photo.bits == 16
    write_photo(photo, tmp_path / "o.png")
    back = Image.open(tmp_path / "o.png")
    assert back.mode.startswith("I") and np.array_equal(np.asarray(back).astype(np.uint16), grey)


def test_alpha_is_kept_and_grey_stays_grey(tmp_path):
    rgba = RNG.integers(0, 256, (8, 10, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    photo = read_photo(tmp_path / "a.png")
    write_photo(photo, tmp_path / "o.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png"))[..., 3], rgba[..., 3])
    assert Image.open(write_photo(photo, tmp_path / "o.jpg")).mode == "RGB"  # JPEG has no alpha
    Image.fromarray(RGB8[..., 0], "L").save(tmp_path / "l.png")
    grey = read_photo(tmp_path / "l.png")
    assert grey.grey and Image.open(write_photo(grey, tmp_path / "l_out.png")).mode == "L"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_and_reset(tmp_path, orientation):
    src = tmp_path / "o.png"
    Image.fromarray(RGB8).save(src, exif=_exif(orientation=orientation))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(src)).convert("RGB"))
    photo = read_photo(src)
    assert np.array_equal(np.round(photo.rgb * 255).astype(np.uint8), expected)
    if orientation != 1:
        out = write_photo(photo, tmp_path / "out.jpg")
        assert Image.open(out).getexif().get(0x0112) == 1


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_icc_profile_and_exif_are_carried_over(tmp_path, ext):
    src = tmp_path / "src.jpg"
    Image.fromarray(RGB8).save(src, icc_profile=ICC, exif=_exif(make="TestCam"))
    out = write_photo(read_photo(src), tmp_path / f"out{ext}")
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == ICC
        assert im.getexif().get(0x010F) == "TestCam"


def test_16bit_png_carries_metadata(tmp_path):
    photo = split_array(RGB16)
    photo.icc_profile, photo.exif = ICC, _exif(make="DeepCam")
    out = write_photo(photo, tmp_path / "deep.png")
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == ICC and im.getexif().get(0x010F) == "DeepCam"
    tif = write_photo(photo, tmp_path / "deep.tif")
    import tifffile

    with tifffile.TiffFile(tif) as t:
        assert t.pages[0].tags["InterColorProfile"].value == ICC


def test_arrays_and_pil_round_trip():
    for array in (RGB8, RGB16, RGB8[..., 0], np.dstack([RGB8, RGB8[..., :1]]), RGB8 / 255.0):
        photo = split_array(array)
        channels = 1 if array.ndim == 2 else array.shape[2]
        back = join_array(photo, array.dtype, channels)
        assert back.shape == array.shape and back.dtype == array.dtype
        assert np.allclose(back, array, atol=1e-6)
    im = Image.fromarray(RGB8)
    assert np.array_equal(np.asarray(to_pil(from_pil(im))), RGB8)


def test_unreadable_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(LowlightError, match="cannot read image"):
        read_photo(bad)
    with pytest.raises(LowlightError, match="not found"):
        read_photo(tmp_path / "missing.png")
    with pytest.raises(LowlightError, match="dtype"):
        split_array(np.zeros((4, 4, 3), dtype=np.int32))
