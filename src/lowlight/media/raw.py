"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2) through rawpy, LibRaw's binding.

The models were trained on sRGB photos, so a RAW frame is brought there the plainest way:
LibRaw demosaics it with the camera's white balance, into linear sRGB primaries at 16 bits,
with no automatic brightening and no tone curve; ``exposure`` stops of linear gain follow
(SID's amplification ratio, for frames too dark to show anything); then the sRGB transfer
curve. The enhanced photo keeps 16 bits (PNG by default, with the EXIF), so the RAW file's depth is not
thrown away at the last step. Optional: ``pip install 'lowlight[raw]'``.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from ..color import linear_to_srgb
from ..errors import CorruptImageError, ImageTooLargeError, LowlightError, UnsupportedImageError, megapixels, require
from .files import quiet_stderr


def develop(linear: np.ndarray, exposure: float = 0.0) -> np.ndarray:
    """Linear RGB in [0, 1] (any float or uint16 array) to the sRGB floats a model sees, after
    ``exposure`` stops of gain; values pushed past white clip."""
    rgb = linear.astype(np.float32) / (65535.0 if linear.dtype == np.uint16 else 1.0)
    return linear_to_srgb(np.clip(rgb * np.float32(2.0 ** exposure), 0.0, 1.0)).astype(np.float32)


#: The descriptive tags of a RAW file's first directory worth carrying (camera, time, author),
#: beside its EXIF and GPS directories; the rest of that directory describes the sensor data.
_CARRIED = (0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)  # Make, Model, Software, DateTime, Artist, Copyright
_SUB_IFDS = (0x8769, 0x8825)  # Exif, GPS


def _exif(data: bytes) -> bytes | None:
    """EXIF of a TIFF-based RAW (DNG, CR2, NEF, ARW, ...: the file is itself a TIFF structure),
    with the orientation left out (LibRaw turns the pixels upright); None for other containers."""
    from PIL import Image

    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None  # CR3, RAF and the like: no EXIF rather than a guess
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = Image.Exif()
            found.load(data)
            out = Image.Exif()
            for tag in _CARRIED:
                if tag in found:
                    out[tag] = found[tag]
            for ifd in _SUB_IFDS:
                sub = found.get_ifd(ifd)
                if sub:
                    out.get_ifd(ifd).update(sub)
            return out.tobytes() if len(out) or any(out.get_ifd(i) for i in _SUB_IFDS) else None
    except Exception:  # a damaged directory: the photo without EXIF rather than no photo
        return None


def _reason(exc: Exception) -> str:
    """LibRaw's message (its errors carry bytes) or the error's type."""
    arg = exc.args[0] if exc.args else ""
    text = arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def check_exposure(stops: float) -> float:
    """``--raw-exposure`` must be -10 to 16 stops (16 stops is x65536: past any sensor's range)."""
    if not -10.0 <= stops <= 16.0:
        raise LowlightError(f"--raw-exposure must be between -10 and 16 stops, got {stops:g}")
    return stops


def decode_raw(data: bytes, name: str, exposure: float, max_pixels: int) -> tuple[np.ndarray, bytes | None]:
    """A camera RAW file's bytes as 16-bit-derived sRGB floats ``(H, W, 3)`` and its EXIF (see the
    module); :func:`lowlight.media.photo.decode_photo` wraps them in a ``Photo``. ``name`` is what
    the messages call the file; frames over ``max_pixels`` are refused before demosaicking."""
    rawpy = require("rawpy", f"reading the camera RAW file {Path(name).name}", "raw")
    check_exposure(exposure)
    hint = "check that it is a complete camera RAW file that LibRaw supports"
    try:
        with quiet_stderr(), rawpy.imread(io.BytesIO(data)) as raw:
            height, width = raw.sizes.height, raw.sizes.width
            if width * height > max_pixels:
                raise ImageTooLargeError(f"{name} is {width}x{height} ({megapixels(width * height)} megapixels), "
                                         f"over the limit of {megapixels(max_pixels)} megapixels")
            linear = raw.postprocess(use_camera_wb=True, no_auto_bright=True, output_bps=16, gamma=(1, 1),
                                     output_color=rawpy.ColorSpace.sRGB)
    except LowlightError:
        raise
    except (rawpy.LibRawFileUnsupportedError, rawpy.NotSupportedError) as exc:
        raise UnsupportedImageError(f"cannot read camera RAW file {name}: {_reason(exc)}; {hint}") from None
    except Exception as exc:  # LibRaw raises its own error types for truncated and corrupt data
        raise CorruptImageError(f"cannot read camera RAW file {name}: {_reason(exc)}; "
                                f"{hint}") from None
    return develop(linear, exposure), _exif(data)


def synthetic_dng(path: Path, linear: np.ndarray, white: int = 4095, black: int = 64,
                  make: str = "lowlight") -> Path:
    """Write a minimal DNG of linear sRGB ``(H, W, 3)`` in [0, 1] mosaicked onto an RGGB Bayer
    pattern at 12 bits, with sRGB primaries as the camera's colour matrix and a neutral white
    balance: a RAW file with known content, for tests and for measuring the RAW path."""
    import tifffile

    linear = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    height, width = linear.shape[:2]
    if height % 2 or width % 2:
        raise LowlightError("a Bayer mosaic needs an even width and height")
    levels = np.round(black + linear * (white - black)).astype(np.uint16)
    cfa = np.empty((height, width), np.uint16)
    cfa[0::2, 0::2], cfa[0::2, 1::2] = levels[0::2, 0::2, 0], levels[0::2, 1::2, 1]
    cfa[1::2, 0::2], cfa[1::2, 1::2] = levels[1::2, 0::2, 1], levels[1::2, 1::2, 2]
    xyz_to_srgb = [3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570]
    matrix = tuple(v for x in xyz_to_srgb for v in (int(round(x * 10000)), 10000))
    tags = [(50706, 1, 4, (1, 4, 0, 0), True),          # DNGVersion
            (271, 2, 0, make, True),                    # Make (EXIF, in IFD0 as in real DNGs)
            (50708, 2, 0, "lowlight synthetic", True),  # UniqueCameraModel
            (33421, 3, 2, (2, 2), True),                # CFARepeatPatternDim
            (33422, 1, 4, (0, 1, 1, 2), True),          # CFAPattern: R G / G B
            (50714, 3, 1, (black,), True),              # BlackLevel
            (50717, 3, 1, (white,), True),              # WhiteLevel
            (50721, 10, 9, matrix, True),               # ColorMatrix1 (XYZ to camera)
            (50728, 5, 3, (1, 1, 1, 1, 1, 1), True),    # AsShotNeutral
            (50778, 3, 1, (21,), True)]                 # CalibrationIlluminant1: D65
    tifffile.imwrite(path, cfa, photometric=32803, extratags=tags, subfiletype=0, metadata=None)
    return Path(path)
