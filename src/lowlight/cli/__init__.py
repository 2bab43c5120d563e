"""The ``lowlight`` command. Each command (or family) has its own module with ``add_parsers(sub)``
and its run functions: enhance, evaluate and compare, serve, train and tune, synth, export,
benchmark and models.

Heavy imports (torch) happen inside each command, so ``--help`` and ``--version`` are instant.
Every user error is a :class:`~lowlight.errors.LowlightError`: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import LowlightError
from ..cli import enhance, evaluate, export, info, serve, synth, train
from .common import EXIT_USAGE
from .train import build_train_config  # noqa: F401  (used by tests and tools)

COMMANDS = (enhance, evaluate, serve, train, synth, export, info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lowlight", description="Make photos taken in the dark look as if they were taken in good light.")
    parser.add_argument("--version", action="version", version=f"lowlight {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except LowlightError as exc:
        print(f"lowlight: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lowlight: interrupted", file=sys.stderr)
        return 130
