"""The one exception type users see: its message is the whole, one-line explanation."""


class LowlightError(Exception):
    """Bad input or configuration; the CLI prints the message and exits with code 2.

    Messages say what was wrong and what to do about it, on one line.
    """
