"""Files: which names are images, their size from the header, and atomic writes.

Decoding and encoding pixels is :mod:`lowlight.media.photo`'s; this module owns the file system side
that every writer shares (a reader never sees a half-written output).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable

from PIL import Image, UnidentifiedImageError

from ..errors import LowlightError

#: File extensions treated as images when scanning folders (lower case, with the dot). HEIC/HEIF
#: need the optional pillow-heif (``lowlight[heif]``); AVIF is Pillow's own (Pillow 11.3 and later).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif")

#: Camera RAW files, read through rawpy/LibRaw (``lowlight[raw]``, :mod:`lowlight.media.raw`).
RAW_EXTENSIONS = (".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2")

#: Video files, decoded and encoded through PyAV (``lowlight[video]``, :mod:`lowlight.media.video`).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm")

_UMASK = os.umask(0)
os.umask(_UMASK)

#: Output formats :func:`lowlight.media.photo.write_photo` can write, by extension.
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                 ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".heic": "HEIF", ".heif": "HEIF",
                 ".avif": "AVIF"}


def is_image_path(path: Path) -> bool:
    """True when the file name has one of :data:`IMAGE_EXTENSIONS`."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def is_raw_path(path: Path) -> bool:
    """True for a camera RAW file name (:data:`RAW_EXTENSIONS`)."""
    return Path(path).suffix.lower() in RAW_EXTENSIONS


def is_video_path(path: Path) -> bool:
    """True for a video file name (:data:`VIDEO_EXTENSIONS`)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def is_media_path(path: Path) -> bool:
    """What ``lowlight enhance`` takes from a folder: images, camera RAW files and videos."""
    return is_image_path(path) or is_raw_path(path) or is_video_path(path)


def heif_available() -> bool:
    """Whether pillow-heif is installed; registers its Pillow plugin the first time."""
    global _HEIF
    if _HEIF is None:
        try:
            import pillow_heif
        except ImportError:
            _HEIF = False
        else:
            pillow_heif.register_heif_opener()
            _HEIF = True
    return _HEIF


_HEIF: bool | None = None


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (hidden files skipped)."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and is_image_path(p) and not p.name.startswith("."))


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the file header, without decoding the pixels."""
    heif_available()  # HEIC headers too, where pillow-heif is installed
    try:
        with Image.open(path) as im:
            return im.size
    except FileNotFoundError:
        raise LowlightError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise LowlightError(f"cannot read image {path}: {first_line(exc)}; "
                            "check that it is a PNG, JPEG, WebP, BMP, TIFF, HEIC or AVIF file") from None


def read_bytes(path: Path) -> bytes:
    """The contents of the file ``path``, or a one-line error: not found, a folder, unreadable."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LowlightError(f"image not found: {path}") from None
    except IsADirectoryError:
        raise LowlightError(f"{path} is a folder, not an image") from None
    except OSError as exc:
        raise LowlightError(f"cannot read {path}: {exc.strerror or first_line(exc)}") from None


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``.

    Readers never see a half-written file, and an error leaves any old ``path`` untouched. A
    file-system error names ``path`` (not the temporary file) and why it cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileExistsError:
        raise LowlightError(f"cannot write {path}: a file is in the way of its folder {path.parent}") from None
    except NotADirectoryError:
        raise LowlightError(f"cannot write {path}: part of {path.parent} is a file, not a folder") from None
    except PermissionError:
        raise LowlightError(f"cannot write {path}: permission denied in {path.parent}") from None
    except OSError as exc:
        raise LowlightError(f"cannot write {path}: {exc.strerror or first_line(exc)}") from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, LowlightError):
            raise LowlightError(f"cannot write {path}: {exc.strerror or first_line(exc)}") from None
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    def _write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    atomic_write(path, _write)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextlib.contextmanager
def quiet_stderr():
    """Hide what C libraries print to the process's stderr (LibRaw about a bad file, Ray's core
    worker at start-up): the errors lowlight raises say it in one line."""
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (embedded interpreters): nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
