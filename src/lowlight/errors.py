"""The one exception type users see: its message is the whole, one-line explanation."""

from __future__ import annotations


class LowlightError(Exception):
    """Bad input or configuration; the CLI prints the message and exits with code 2.

    Messages say what was wrong and what to do about it, on one line.
    """


class UnsupportedImageError(LowlightError):
    """The data is not an image, or not in a format lowlight reads (HTTP 415)."""


class CorruptImageError(LowlightError):
    """The data looks like an image but cannot be decoded (HTTP 422)."""


class ImageTooLargeError(LowlightError):
    """The image has more pixels than the configured limit (HTTP 413).

    ``size_text`` says what is too large by how much; the message adds what to do about it,
    which depends on the surface (the CLI's ``--max-pixels``; the server's own limit)."""

    def __init__(self, size_text: str, hint: str = "pass --max-pixels N to allow it"):
        super().__init__(f"{size_text}; {hint}")
        self.size_text = size_text


def missing_extra(what: str, extra: str, module: str) -> LowlightError:
    """The error for an optional dependency that is not installed, naming the extra to install."""
    return LowlightError(f"{what} needs the optional package {module}; install it with "
                         f"pip install 'lowlight[{extra}]'")


def require(module: str, what: str, extra: str, package: str | None = None):
    """Import ``module`` (an optional dependency) or raise :func:`missing_extra` for ``what``.

    The core install holds what ``lowlight enhance`` needs for its common formats; the rest
    (OpenCV and SciPy for the classical methods, matplotlib for plots, rawpy, PyAV, Ray, ...)
    comes with extras, named in the message."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing_extra(what, extra, package or module) from None


def megapixels(pixels: float) -> str:
    """A pixel count in megapixels with the digits that tell small counts apart (0.49, 12, 180)."""
    mp = pixels / 1e6
    return f"{mp:.0f}" if mp >= 10 else f"{mp:.2g}" if mp >= 0.01 else f"{mp:.1g}"
