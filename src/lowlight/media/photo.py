"""Photos as users have them: any common format, 8 or 16 bits, grey or colour, with alpha, EXIF
and ICC profile, converted to the float RGB the models see and back without losing any of that.

:func:`read_photo` and :func:`write_photo` are the file edges, the only place pixels are decoded
and encoded; :func:`read_image` and :func:`save_image` are their uint8 RGB faces for datasets.
:func:`split_array` and :func:`join_array` do the same for in-memory arrays, so the Python API
and the CLI share them; :func:`to_tensor` and :func:`to_uint8` cross to and from PyTorch.
Greyscale inputs are enhanced as RGB and written back as grey (the luma of the result).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from ..color import luma
from ..errors import CorruptImageError, ImageTooLargeError, LowlightError, UnsupportedImageError, megapixels, missing_extra
from .files import SAVE_FORMATS, atomic_write, first_line, heif_available, is_raw_path, read_bytes

_ORIENTATION = 0x0112

#: Largest image decoded by default, in pixels (about Pillow's own bomb limit); ``max_pixels`` raises it.
MAX_PIXELS = 180_000_000
Image.MAX_IMAGE_PIXELS = None  # the check below replaces Pillow's warning and its traceback


@dataclass
class Photo:
    """Pixels as float32 RGB ``(H, W, 3)`` in [0, 1] plus everything needed to write them back."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None   #: ``(H, W)`` in the source's own dtype, written back untouched
    bits: int = 8                     #: 8 or 16: the bit depth of the source (and of the output)
    grey: bool = False                #: the source had one colour channel
    icc_profile: bytes | None = None
    exif: bytes | None = None         #: with the orientation reset to 1, as pixels are upright
    lossless: bool = True             #: the source format kept every pixel (not JPEG, not lossy WebP)
    frames: int = 1                   #: frames in the source (animated GIF/WebP/PNG); only the first is read
    source_format: str | None = None  #: Pillow's name of the source format (PNG, JPEG, ...), if from a file


def split_array(array: np.ndarray) -> Photo:
    """An ``(H, W)``, ``(H, W, 1|2|3|4)`` uint8, uint16 or float array as a :class:`Photo`."""
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise LowlightError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if a.dtype == np.uint8:
        scale, bits = 255.0, 8
    elif a.dtype == np.uint16:
        scale, bits = 65535.0, 16
    elif a.dtype.kind == "f":
        scale, bits = 1.0, 16
        lo, hi = float(np.nanmin(a)) if a.size else 0.0, float(np.nanmax(a)) if a.size else 0.0
        if np.isnan(a).any() or lo < -1e-6 or hi > 1 + 1e-6:
            raise LowlightError(f"float images must hold values in [0, 1], got {lo:g} to {hi:g}"
                                f"{' and NaN' if np.isnan(a).any() else ''}; divide 8-bit data by 255 "
                                "(or pass uint8 / uint16 arrays)")
    else:
        raise LowlightError(f"unsupported image dtype {a.dtype}; use uint8, uint16 or float in [0, 1]")
    colour = a[..., :3] if a.shape[2] >= 3 else np.repeat(a[..., :1], 3, axis=2)
    alpha = a[..., -1].copy() if a.shape[2] in (2, 4) else None
    rgb = np.clip(colour.astype(np.float32) / np.float32(scale), 0.0, 1.0)
    return Photo(rgb, alpha, bits, grey=a.shape[2] <= 2)


def join_array(photo: Photo, dtype: np.dtype, channels: int) -> np.ndarray:
    """Back to an array of ``dtype`` with ``channels`` (1-4; 1 and 2 squeeze grey to ``(H, W)``)."""
    dtype = np.dtype(dtype)
    rgb = photo.rgb
    colour = _grey(rgb)[..., None] if channels <= 2 else rgb
    if dtype == np.uint8:
        colour = np.round(colour * 255.0).astype(np.uint8)
    elif dtype == np.uint16:
        colour = np.round(colour * 65535.0).astype(np.uint16)
    else:
        colour = colour.astype(dtype)
    parts = [colour]
    if channels in (2, 4):
        alpha = photo.alpha if photo.alpha is not None else np.full(colour.shape[:2], _opaque(dtype), dtype)
        parts.append(alpha.astype(dtype)[..., None])
    out = np.concatenate(parts, axis=2) if len(parts) > 1 else colour
    return out[..., 0] if channels == 1 else out


def _opaque(dtype: np.dtype):
    return 255 if dtype == np.uint8 else 65535 if dtype == np.uint16 else 1.0


def _grey(rgb: np.ndarray) -> np.ndarray:
    return luma(rgb).astype(np.float32)


# -- HEIC/HEIF (pillow-heif, optional) ---------------------------------------------------------
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")




def _looks_like_heif(data: bytes) -> bool:
    """An ISO media file whose brand is HEIF's (``ftyp`` box at byte 4); AVIF is Pillow's own."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _decode_heif_16bit(data: bytes) -> np.ndarray:
    """A 10- or 12-bit HEIF's pixels as uint16 over the full 0..65535 range (Pillow gives 8 bits)."""
    import pillow_heif

    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    depth = int(heif.info.get("bit_depth", 16))
    raw = np.asarray(heif).astype(np.uint32) >> (16 - depth)  # pillow-heif shifts samples to 16 bits
    return np.round(raw * (65535.0 / (2 ** depth - 1))).astype(np.uint16)


def _encode_heif_16bit(array: np.ndarray, photo: Photo, quality: int) -> bytes:
    """A 16-bit RGB(A) array as a 10-bit HEIC (Pillow's HEIF writer takes 8 bits only)."""
    import pillow_heif

    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    mode = "RGBA;16" if array.shape[2] == 4 else "RGB;16"
    heif = pillow_heif.from_bytes(mode=mode, size=(array.shape[1], array.shape[0]),
                                  data=np.ascontiguousarray(array).tobytes())
    buf = io.BytesIO()
    heif.save(buf, quality=quality, exif=photo.exif, icc_profile=photo.icc_profile)
    return buf.getvalue()


# -- reading -----------------------------------------------------------------------------------
def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an ``(H, W, ...)`` array, as ImageOps.exif_transpose does."""
    ops = {2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
           5: lambda x: np.swapaxes(x, 0, 1), 6: lambda x: np.rot90(x, -1),
           7: lambda x: np.swapaxes(x, 0, 1)[::-1, ::-1],
           8: lambda x: np.rot90(x, 1)}
    return np.ascontiguousarray(ops[orientation](a)) if orientation in ops else a


def _decode_16bit(data: bytes, fmt: str, name: str = "image") -> np.ndarray | None:
    """16-bit PNG pixels via pypng, 16-bit TIFF via tifffile (Pillow reads 16-bit colour as 8
    bits); ``(H, W)`` or ``(H, W, C)`` uint16, or None if the file holds something else.
    tifffile decodes uncompressed, Deflate and PackBits TIFFs itself; LZW and the rest need
    imagecodecs (the ``formats`` extra), which it then finds on its own."""
    if fmt == "TIFF":
        import tifffile

        with tifffile.TiffFile(io.BytesIO(data)) as tif:  # the first page, as Pillow opens it
            page = tif.pages[0]
            try:
                arr = page.asarray()
            except ValueError as exc:
                if "imagecodecs" not in str(exc):
                    raise
                compression = getattr(page.compression, "name", str(page.compression))
                raise missing_extra(f"reading the 16-bit {compression}-compressed TIFF {name}", "formats",
                                    "imagecodecs") from None
            if arr.ndim == 3 and page.axes.startswith("S"):  # planar: samples first
                arr = np.moveaxis(arr, 0, -1)
    else:
        import png

        width, height, rows, info = png.Reader(bytes=data).read_flat()
        if info["bitdepth"] != 16 or info.get("palette"):
            return None
        arr = np.frombuffer(rows, np.uint16).reshape(height, width, info["planes"])
    if arr.dtype != np.uint16 or arr.ndim not in (2, 3):
        return None
    return np.ascontiguousarray(arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr)


def _is_16bit(im: Image.Image, data: bytes) -> bool:
    """Whether a PNG or TIFF stores 16 bits per sample, from its header (no pixels decoded)."""
    if im.format == "PNG":
        return len(data) >= 25 and data[24] == 16  # IHDR bit depth
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        return 16 in (bits if isinstance(bits, tuple) else (bits,))
    return False


def _pillow_pixels(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(im, dtype=np.uint16)
    if mode == "I":
        a = np.asarray(im)
        return np.clip(a, 0, 65535).astype(np.uint16)
    if mode == "F":
        return np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(im)
    if mode in ("1",):
        return np.asarray(im.convert("L"))
    if mode == "P" or mode == "PA":
        return np.asarray(im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB"))
    return np.asarray(im.convert("RGBA" if "A" in mode else "RGB"))


def _is_lossless(im: Image.Image, data: bytes) -> bool:
    """False for JPEG and lossy WebP (a VP8 rather than VP8L bitstream), True for the rest."""
    if im.format in ("JPEG", "HEIF", "AVIF"):
        return False
    if im.format == "WEBP":
        pos = 12  # after "RIFF", the size and "WEBP": walk the chunks to the bitstream
        while pos + 8 <= len(data):
            kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
            if kind in (b"VP8L", b"VP8 "):
                return kind == b"VP8L"
            pos += 8 + size + (size & 1)
        return False
    return True


def read_photo(path: Path, orient: bool = True, max_pixels: int | None = None, raw_exposure: float = 0.0) -> Photo:
    """Decode ``path`` with its bit depth, alpha, ICC and EXIF; upright (EXIF orientation applied)
    unless ``orient`` is False (dataset pairs are used as stored). Images over ``max_pixels``
    (default :data:`MAX_PIXELS`) are refused from their header, before any pixel is decoded.
    Camera RAW files go through :func:`lowlight.media.raw.decode_raw` (``raw_exposure`` stops of gain)."""
    path = Path(path)
    return decode_photo(read_bytes(path), orient, max_pixels, name=str(path), raw_exposure=raw_exposure)


def decode_photo(data: bytes, orient: bool = True, max_pixels: int | None = None, name: str = "image",
                 raw_exposure: float = 0.0) -> Photo:
    """:func:`read_photo` on the bytes of a file (the server decodes uploads in memory, the Ray
    engine files read from URIs).

    A ``name`` with a camera RAW extension is developed by :func:`lowlight.media.raw.decode_raw`
    (``raw_exposure`` stops of gain). Raises :class:`UnsupportedImageError` for data that is no
    image lowlight reads, :class:`CorruptImageError` for an image that cannot be decoded,
    :class:`ImageTooLargeError` above ``max_pixels``; ``name`` is what the messages call it.
    """
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if is_raw_path(Path(name)):
        from .raw import decode_raw

        rgb, exif = decode_raw(data, name, raw_exposure, limit)
        return Photo(rgb, bits=16, exif=exif, lossless=True, source_format="RAW")
    hint = "check that the file is a complete PNG, JPEG, WebP, BMP, TIFF, HEIC or AVIF"
    heif = heif_available()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF and the like: not the user's concern
        try:
            im = Image.open(io.BytesIO(data))
        except Image.UnidentifiedImageError:
            if not heif and _looks_like_heif(data):
                raise UnsupportedImageError(first_line(missing_extra(f"reading the HEIC image {name}", "heif",
                                                                     "pillow-heif"))) from None
            raise UnsupportedImageError(f"cannot read image {name}: not an image format lowlight reads; "
                                        f"{hint}") from None
        except Exception as exc:  # odd headers raise others
            raise UnsupportedImageError(f"cannot read image {name}: {first_line(exc)}; {hint}") from None
        try:
            with im:
                width, height = im.size
                if width * height > limit:
                    raise ImageTooLargeError(
                        f"{name} is {width}x{height} ({megapixels(width * height)} megapixels), over the limit "
                        f"of {megapixels(limit)} megapixels", "pass --max-pixels N to allow it (it needs about "
                        "16 bytes of memory per pixel)")
                frames = int(getattr(im, "n_frames", 1) or 1)  # animated files open on their first frame
                im.seek(0)
                if im.format == "HEIF" and int(im.info.get("bit_depth", 8) or 8) > 8:
                    pixels = _decode_heif_16bit(data)
                else:
                    pixels = _decode_16bit(data, im.format, name) if _is_16bit(im, data) else None
                if pixels is None:
                    pixels = _pillow_pixels(im)
                icc = im.info.get("icc_profile") or None
                exif = im.getexif()
                orientation = int(exif.get(_ORIENTATION, 1) or 1) if orient else 1
                lossless = _is_lossless(im, data)
                source_format = im.format
        except LowlightError:
            raise
        except Exception as exc:  # decoders raise many types for corrupt data (found by bench/fuzz.py)
            raise CorruptImageError(f"cannot read image {name}: {first_line(exc)}; {hint}") from None
    photo = split_array(_orient(pixels, orientation))
    if orientation != 1:
        exif[_ORIENTATION] = 1
    return replace(photo, icc_profile=icc, exif=exif.tobytes() if len(exif) else None,
                   bits=16 if pixels.dtype != np.uint8 else 8, lossless=lossless, frames=frames,
                   source_format=source_format)


def read_image(path: Path, orient: bool = False) -> np.ndarray:
    """The pixels of ``path`` as uint8 RGB ``(H, W, 3)`` (grey repeated, alpha dropped, 16 bits
    rounded to 8): what datasets, evaluation and training read, as stored unless ``orient``."""
    return to_8bit(read_photo(path, orient=orient).rgb)


def to_8bit(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] to uint8, rounded."""
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


# -- writing -----------------------------------------------------------------------------------
def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_with_metadata(png: bytes, icc: bytes | None, exif: bytes | None) -> bytes:
    """Insert iCCP and eXIf chunks after IHDR (OpenCV's 16-bit PNG writer keeps neither)."""
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        extra += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    ihdr_end = 8 + 4 + 4 + 13 + 4
    return png[:ihdr_end] + extra + png[ihdr_end:]


def write_photo(photo: Photo, path: Path, quality: int = 95) -> Path:
    """Write atomically in the format of ``path``'s extension, keeping bit depth where the format
    can (PNG, TIFF; HEIC as 10 bits), alpha (dropped only by JPEG/BMP), greyscale, the ICC profile and EXIF.
    WebP is lossless when the source was (``photo.lossless``), else lossy at ``quality``."""
    path = Path(path)
    data = encode_photo(photo, path.suffix, quality, name=path.name)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    return path


def check_quality(quality: int) -> int:
    """JPEG/WebP quality must be 1-100; checked here for every writer (CLI up front, server, API)."""
    if not 1 <= quality <= 100:
        raise LowlightError(f"quality must be between 1 and 100, got {quality}")
    return quality


def encode_photo(photo: Photo, ext: str, quality: int = 95, name: str | None = None) -> bytes:
    """The bytes of ``photo`` as a file of extension ``ext`` (``.png``, ``.jpg``, ...), as
    :func:`write_photo` writes it."""
    fmt = SAVE_FORMATS.get(ext.lower())
    if fmt is None:
        raise LowlightError(f"cannot write {name or 'an image'}: unknown extension {ext!r}; "
                            f"use one of {', '.join(sorted(set(SAVE_FORMATS)))}")
    check_quality(quality)
    if fmt == "HEIF" and not heif_available():
        raise missing_extra(f"writing the HEIC image {name or ''}".rstrip(), "heif", "pillow-heif")
    keep_alpha = photo.alpha is not None and fmt not in ("JPEG", "BMP")
    channels = (1 if photo.grey else 3) + (1 if keep_alpha else 0)
    bits = 16 if photo.bits == 16 and fmt in ("PNG", "TIFF", "HEIF") else 8
    if photo.alpha is not None and bits == 8 and photo.alpha.dtype != np.uint8:
        photo = replace(photo, alpha=_to_uint8(photo.alpha))
    if photo.alpha is not None and bits == 16 and photo.alpha.dtype == np.uint8:
        photo = replace(photo, alpha=photo.alpha.astype(np.uint16) * 257)
    array = join_array(photo, np.uint16 if bits == 16 else np.uint8, channels)
    if bits == 16:
        return _encode_heif_16bit(array, photo, quality) if fmt == "HEIF" else _encode_16bit(array, fmt, photo)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    pil = Image.fromarray(array, mode)
    options: dict = {}
    if fmt in ("JPEG", "HEIF", "AVIF") or (fmt == "WEBP" and not photo.lossless):
        options["quality"] = quality
    elif fmt == "WEBP":
        options["lossless"] = True
        options["exact"] = True  # keep the colour under fully transparent pixels (libwebp drops it otherwise)
    if photo.icc_profile and fmt != "BMP":
        options["icc_profile"] = photo.icc_profile
    if photo.exif and fmt != "BMP":
        options["exif"] = photo.exif
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **options)
    return buf.getvalue()


def save_image(image: np.ndarray, path: Path, quality: int = 95) -> Path:
    """Write a uint8 RGB array ``(H, W, 3)`` atomically; the format follows the extension."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"save_image expects uint8 (H, W, 3), got {image.dtype} {image.shape}")
    return write_photo(split_array(image), path, quality)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint16:
        return np.round(a / 257.0).astype(np.uint8)
    return to_8bit(a)


def _encode_16bit(array: np.ndarray, fmt: str, photo: Photo) -> bytes:
    """16-bit PNG through pypng plus our iCCP/eXIf chunks; 16-bit TIFF through tifffile with the
    ICC profile (tag 34675). Pillow writes neither 16-bit colour format."""
    if fmt == "TIFF":
        import tifffile

        colour = array.shape[2] if array.ndim == 3 else 1
        buf = io.BytesIO()
        tifffile.imwrite(buf, array, photometric="rgb" if colour >= 3 else "minisblack",
                         extrasamples=["unassalpha"] if colour in (2, 4) else None,
                         iccprofile=photo.icc_profile, compression="zlib")
        return buf.getvalue()
    import png

    planes = array.shape[2] if array.ndim == 3 else 1
    out = io.BytesIO()
    png.Writer(array.shape[1], array.shape[0], greyscale=planes <= 2, alpha=planes in (2, 4), bitdepth=16,
               compression=6).write_array(out, np.ascontiguousarray(array, np.uint16).ravel())
    return _png_with_metadata(out.getvalue(), photo.icc_profile, photo.exif)


# -- PIL images --------------------------------------------------------------------------------
def from_pil(im: Image.Image) -> Photo:
    """A PIL image as a :class:`Photo` (pixels as given: no orientation is applied in memory)."""
    pixels = _pillow_pixels(im)
    photo = split_array(pixels)
    exif = im.getexif()
    return replace(photo, icc_profile=im.info.get("icc_profile") or None,
                   exif=exif.tobytes() if len(exif) else None, bits=16 if pixels.dtype != np.uint8 else 8)


def to_pil(photo: Photo, mode: str | None = None) -> Image.Image:
    """A PIL image of ``photo`` (``mode`` defaults from it: L/LA/RGB/RGBA, I;16 for 16-bit grey;
    PIL has no 16-bit colour mode, so 16-bit colour comes back as 8 bits). ICC profile and EXIF
    are in ``.info`` (pass them to ``save``: ``im.save(p, exif=im.info["exif"], ...)``)."""
    if mode is None:
        mode = ("LA" if photo.grey else "RGBA") if photo.alpha is not None else ("L" if photo.grey else "RGB")
        if mode == "L" and photo.bits == 16:
            mode = "I;16"
    if mode in ("I;16", "I;16B", "I;16L"):
        im = Image.fromarray(join_array(photo, np.uint16, 1))
    elif mode in ("L", "LA", "RGB", "RGBA"):
        alpha = photo.alpha if photo.alpha is None or photo.alpha.dtype == np.uint8 else _to_uint8(photo.alpha)
        im = Image.fromarray(join_array(replace(photo, alpha=alpha), np.uint8, len(mode)), mode)
    else:
        im = Image.fromarray(join_array(photo, np.uint8, 3), "RGB").convert(mode)
    if photo.icc_profile:
        im.info["icc_profile"] = photo.icc_profile
    if photo.exif:
        im.info["exif"] = photo.exif
    return im


# -- PyTorch -----------------------------------------------------------------------------------
def to_tensor(image: np.ndarray):
    """uint8 ``(H, W, 3)`` array to a float tensor ``(1, 3, H, W)`` in [0, 1]."""
    import torch

    image = np.ascontiguousarray(image)
    if not image.flags.writeable:  # e.g. np.asarray(PIL image): torch wants memory it may own
        image = image.copy()
    return torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def to_uint8(tensor) -> np.ndarray:
    """Float tensor ``(1, 3, H, W)`` or ``(3, H, W)`` in [0, 1] to a uint8 ``(H, W, 3)`` array (rounded)."""
    import torch

    t = tensor.detach()
    if t.dim() == 4:
        t = t[0]
    t = t.float().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
    return t.permute(1, 2, 0).cpu().numpy()
