"""Image files in and out: reading to uint8 RGB arrays, atomic writes, the formats we accept.

Everything that touches the file system for images lives here, so the rest of the package
works on arrays and tensors only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import LowlightError

#: File extensions treated as images when scanning folders (lower case, with the dot).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")

_UMASK = os.umask(0)
os.umask(_UMASK)

#: Output formats ``save_image`` can write, by extension.
_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                 ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}


def is_image_path(path: Path) -> bool:
    """True when the file name has one of :data:`IMAGE_EXTENSIONS`."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (hidden files skipped)."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and is_image_path(p) and not p.name.startswith("."))


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the file header, without decoding the pixels."""
    try:
        with Image.open(path) as im:
            return im.size
    except FileNotFoundError:
        raise LowlightError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise LowlightError(f"cannot read image {path}: {_reason(exc)}; "
                            "check that it is a PNG, JPEG, WebP, BMP or TIFF file") from None


def read_image(path: Path, exif_transpose: bool = False) -> np.ndarray:
    """Decode an image file to a uint8 RGB array ``(H, W, 3)``.

    Palette, grey and alpha images are converted to RGB; ``exif_transpose`` applies the
    camera's orientation tag (wanted for user photos, not for dataset pairs).
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            if exif_transpose:
                im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr16 = np.asarray(im, dtype=np.float64)
                scale = 65535.0 if arr16.max() > 255 else 255.0
                arr = np.round(arr16 / scale * 255.0).astype(np.uint8)
                return np.repeat(arr[..., None], 3, axis=2)
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except FileNotFoundError:
        raise LowlightError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise LowlightError(f"cannot read image {path}: {_reason(exc)}; "
                            "check that the file is a complete PNG, JPEG, WebP, BMP or TIFF") from None


def save_image(image: np.ndarray, path: Path, quality: int = 95) -> Path:
    """Write a uint8 RGB array ``(H, W, 3)`` atomically; the format follows the extension."""
    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LowlightError(f"cannot write {path.name}: unknown extension {path.suffix!r}; "
                            f"use one of {', '.join(sorted(set(_SAVE_FORMATS)))}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"save_image expects uint8 (H, W, 3), got {image.dtype} {image.shape}")
    pil = Image.fromarray(image, "RGB")
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    atomic_write(path, lambda tmp: pil.save(tmp, format=fmt, **options))
    return path


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``.

    Readers never see a half-written file, and an error leaves any old ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    def _write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    atomic_write(path, _write)


def to_tensor(image: np.ndarray):
    """uint8 ``(H, W, 3)`` array to a float tensor ``(1, 3, H, W)`` in [0, 1]."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def to_uint8(tensor) -> np.ndarray:
    """Float tensor ``(1, 3, H, W)`` or ``(3, H, W)`` in [0, 1] to a uint8 ``(H, W, 3)`` array (rounded)."""
    import torch

    t = tensor.detach()
    if t.dim() == 4:
        t = t[0]
    t = t.float().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
    return t.permute(1, 2, 0).cpu().numpy()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
