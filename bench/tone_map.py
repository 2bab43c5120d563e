"""How each method maps a photo's tones: the median output level for each band of input levels.

    python bench/tone_map.py ../shared/datasets/real-lowlight/DICM/25.jpg \
        --weights curve-unet IAT=iat:../shared/peers/iat/best_Epoch_lol_v1.pth --methods gamma

Levels are the largest of R, G and B in 8-bit units (what a tone curve applied to that channel
sees). Prints a Markdown table: each band of input levels, its share of the photo's pixels, and
the median output level each contender gives those pixels. A curve that lifts the darkest bands
10x and squeezes everything above into a few levels shows here as haze in the shadows and a
flat, washed glow around lights.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lowlight.errors import LowlightError
from lowlight.media.photo import read_image, to_tensor
from lowlight.models.curve_unet import black_share, night_weight
from real_photos import contenders

BANDS = (0, 2, 4, 6, 8, 11, 15, 20, 28, 40, 60, 90, 130, 180, 256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("--weights", nargs="*", default=["curve-unet"], metavar="NAME[=MODEL:FILE]")
    parser.add_argument("--methods", nargs="*", default=[])
    args = parser.parse_args()
    try:
        photo = read_image(args.photo)
    except LowlightError as err:
        raise SystemExit(f"error: {err}") from None
    level = photo.max(axis=-1)
    outs = {name: run(photo).max(axis=-1) for name, run in contenders(args.methods, args.weights).items()}
    x = to_tensor(photo)
    print(f"{args.photo} (night weight {float(night_weight(x)):.2f}, black share {float(black_share(x)):.3f}): "
          "median output level (max of R, G, B, 0-255) per band of input levels\n")
    print("| input | share | " + " | ".join(outs) + " |")
    print("|---|---|" + "---|" * len(outs))
    for lo, hi in zip(BANDS[:-1], BANDS[1:]):
        band = (level >= lo) & (level < hi)
        if band.any():
            cells = " | ".join(f"{np.median(out[band]):.0f}" for out in outs.values())
            print(f"| {lo}-{hi - 1} | {band.mean() * 100:.1f}% | {cells} |")


if __name__ == "__main__":
    main()
