"""GT-mean PSNR on the LOL pairs the default model treats as nights: what its night-only stages
(the very-dark stage, the lift cap) cost on scenes whose references light every shadow.

    python bench/night_frames.py --data data/LOL-v1/our485 \
        --weights curve-unet before=curve-unet:/path/to/old.safetensors

Keeps the pairs of DATA (``low/`` and ``high/``) whose dark input has a night weight above zero
(:func:`lowlight.models.curve_unet.night_weight`) and scores each contender on them, GT-mean (each
output scaled to its reference's mean grey level first, so brightness is taken out). Made to
choose on the training pairs (our485), never on eval15. Prints a Markdown table: the mean, then
each pair with its night weight and black share (what gates the lift cap).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lowlight.errors import LowlightError
from lowlight.media.pairs import find_pairs
from lowlight.media.photo import read_image, to_tensor
from lowlight.models.curve_unet import black_share, night_weight
from lowlight.research.evaluation import score
from real_photos import contenders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/LOL-v1/our485"), help="a folder with low/ and high/")
    parser.add_argument("--weights", nargs="*", default=["curve-unet"], metavar="NAME[=MODEL:FILE]")
    args = parser.parse_args()
    models = contenders([], args.weights)
    rows = []
    try:
        pairs = find_pairs(args.data)
    except LowlightError as err:
        raise SystemExit(f"error: {err}") from None
    for pair in pairs:
        low = read_image(pair.low)
        x = to_tensor(low)
        night = float(night_weight(x))
        if night <= 0:
            continue
        high = read_image(pair.high)
        row = {"name": pair.name, "night": night, "black": float(black_share(x))}
        row.update({name: score(run(low), high, gt_mean=True)["psnr_gtmean"] for name, run in models.items()})
        rows.append(row)
    if not rows:
        raise SystemExit(f"{args.data}: no pair counts as a night")
    names = list(models)
    print(f"{len(rows)} pairs of {args.data} count as nights; GT-mean PSNR (dB)\n")
    print("| pair | night weight | black share | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    print("| **mean** | | | " + " | ".join(f"**{np.mean([r[n] for r in rows]):.2f}**" for n in names) + " |")
    for r in rows:
        print(f"| {r['name']} | {r['night']:.2f} | {r['black']:.3f} | " + " | ".join(f"{r[n]:.2f}" for n in names) + " |")


if __name__ == "__main__":
    main()
