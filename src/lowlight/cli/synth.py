"""``lowlight synth``: low-light pairs from well-exposed photos, by a stated physical model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_OK, EXIT_PARTIAL, add_quiet


def add_parsers(sub) -> None:
    p = sub.add_parser("synth", help="make low-light pairs from normal-light photos",
                       description="Darken well-exposed photos with a physical model (exposure cut in "
                                   "linear light, shot and read noise, white-balance error, 8-bit "
                                   "quantisation, optional JPEG and lamps) into a low/ + high/ folder.")
    p.add_argument("--photos", required=True, metavar="DIR", help="folder of well-exposed photos")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (gets low/, high/, pairs.jsonl)")
    p.add_argument("--count", type=int, help="number of pairs [one per photo]")
    p.add_argument("--overwrite", action="store_true", help="replace a folder that synth made earlier")
    p.add_argument("--size", type=int, default=512, help="long side of the pairs, 0 keeps it [512]")
    p.add_argument("--seed", type=int, default=0, help="[0]")
    p.add_argument("--split", choices=["train", "test", "all"], default="train",
                   help="which photos: train skips the fixed held-out test photos [train]")
    p.add_argument("--color-cast", type=float, default=0.1,
                   help="max white-balance error (log gain of red and blue), 0 disables [0.1]")
    p.add_argument("--jpeg", type=float, default=0.0, metavar="P",
                   help="share of dark images saved as JPEG (quality 70-95, 4:2:0), as cameras do [0]")
    p.add_argument("--lights", type=float, default=0.0, metavar="P",
                   help="share of pairs given 1-8 lamps that saturate the dark image, as in night photos [0]")
    p.add_argument("--exposure", type=float, nargs=2, default=[0.02, 0.25], metavar=("LO", "HI"),
                   help="exposure range of the dark images, log-uniform; HI up to 1 (no cut) [0.02 0.25]")
    p.add_argument("--identity", type=float, default=0.0, metavar="P",
                   help="share of pairs whose input is the reference itself (a photo to leave alone) [0]")
    p.add_argument("--vary", type=float, default=0.0, metavar="P",
                   help="share of pairs whose exposure varies smoothly across the frame [0]")
    p.add_argument("--tint", type=float, default=0.0, metavar="P",
                   help="share of pairs lit by a coloured source, in the reference too [0]")
    add_quiet(p, "no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..training.synth import synthesize

    skipped: list[str] = []

    def skip(reason: str) -> None:
        skipped.append(reason)
        print(f"lowlight: error: {reason} (skipped)", file=sys.stderr)

    records = synthesize(Path(args.photos), Path(args.out), count=args.count, size=args.size,
                         seed=args.seed, split=args.split, color_cast=args.color_cast,
                         jpeg=args.jpeg, lights=args.lights, exposure_range=tuple(args.exposure),
                         identity=args.identity, vary=args.vary, tint=args.tint, progress=not args.quiet,
                         on_skip=skip, overwrite=args.overwrite)
    print(f"wrote {len(records)} pairs to {args.out}/low and {args.out}/high (parameters in pairs.jsonl)"
          + (f"; {len(skipped)} unreadable photos skipped" if skipped else ""))
    return EXIT_PARTIAL if skipped else EXIT_OK
