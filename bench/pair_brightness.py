"""What a folder of training pairs teaches at each brightness: how many inputs fall in each band of
mean luma, how many of those are identity pairs (the reference's mean luma within 0.005 of the input's), and how much
brighter their references are (geometric mean of reference / input mean luma).

    python bench/pair_brightness.py runs/synth-broad runs/synth-sice [data/LOL-v1 ...]

A model sees only the input; where one band holds both photos to leave alone and slight cuts to
undo, it learns the average of the two.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.media.pairs import find_pairs
from lowlight.errors import LowlightError
from lowlight.research.metrics import mean_luma

BANDS = (0.0, 0.1, 0.25, 0.4, 0.6, 1.01)
SIDE = 256  #: measured on thumbnails: mean luma barely depends on size
SAME = 0.005  #: an identity pair: the reference's mean luma within this of the input's


def thumb_luma(path: Path) -> float:
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((SIDE, SIDE))
        return mean_luma(np.asarray(im))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", type=Path, nargs="+", help="pair folders (any layout `lowlight train` reads)")
    args = ap.parse_args()
    print("| pairs | input mean luma | inputs | identity pairs | reference / input |")
    print("|---|---|---|---|---|")
    for folder in args.folders:
        try:
            pairs = find_pairs(folder, "train", check_sizes=False)
        except LowlightError as e:
            sys.exit(f"pair_brightness.py: error: {e}")
        lows = np.array([thumb_luma(p.low) for p in pairs])
        highs = np.array([thumb_luma(p.high) for p in pairs])
        same = np.abs(highs - lows) < SAME  # JPEG-saved identity inputs differ by a little
        for lo, hi in zip(BANDS[:-1], BANDS[1:]):
            band = (lows >= lo) & (lows < hi)
            if band.any():
                ratio = float(np.exp(np.mean(np.log((highs[band] + 1e-3) / (lows[band] + 1e-3)))))
                print(f"| {folder} | {lo:g}-{min(hi, 1):g} | {band.sum()} | {same[band].sum()} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
