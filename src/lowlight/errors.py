"""The one exception type users see: its message is the whole, one-line explanation."""


class LowlightError(Exception):
    """Bad input or configuration; the CLI prints the message and exits with code 2.

    Messages say what was wrong and what to do about it, on one line.
    """


class UnsupportedImageError(LowlightError):
    """The data is not an image, or not in a format lowlight reads (HTTP 415)."""


class CorruptImageError(LowlightError):
    """The data looks like an image but cannot be decoded (HTTP 422)."""


class ImageTooLargeError(LowlightError):
    """The image has more pixels than the configured limit (HTTP 413)."""
