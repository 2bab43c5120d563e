"""Does a model hold up when the frame is not LOL's? PSNR on centre crops of eval15 at several sizes.

A model conditioned on the whole image (statistics, thumbnail, a brightness guess) may learn LOL's
rooms as whole 600x400 frames; a user's photo is a new framing. Each eval15 pair is cut to the
same centre crop in both images, and every model and method is scored on the crops at full
resolution (plain PSNR, the 8-bit output).

    python bench/framing.py --weights v3=runs/curve-unet-exposure/fitted.safetensors curve-unet --methods lime
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lowlight.media.pairs import find_pairs
from lowlight.research.evaluation import score
from lowlight.media.photo import read_image
from real_photos import contenders  # bench/: the same NAME=FILE models and classical methods

SIZES = ((64, 48), (128, 96), (256, 192), (600, 400))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("data/LOL-v1"), help="LOL-v1 folder [data/LOL-v1]")
    ap.add_argument("--weights", nargs="*", default=["curve-unet"], help="NAME or LABEL=FILE [curve-unet]")
    ap.add_argument("--methods", nargs="*", default=["lime"], help="classical methods [lime]")
    args = ap.parse_args()
    runners = contenders(args.methods, args.weights)
    pairs = [(read_image(p.low), read_image(p.high)) for p in find_pairs(args.data, "test")]
    print("| crop (centre) | " + " | ".join(runners) + " |")
    print("|---|" + "---|" * len(runners))
    for w, h in SIZES:
        row = []
        for run in runners.values():
            scores = []
            for low, high in pairs:
                y, x = (low.shape[0] - h) // 2, (low.shape[1] - w) // 2
                scores.append(score(run(low[y:y + h, x:x + w]), high[y:y + h, x:x + w])["psnr"])
            row.append(f"{np.mean(scores):.2f}")
        print(f"| {w}x{h} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
