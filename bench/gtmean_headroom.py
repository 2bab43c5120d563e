"""Where a GT-mean figure is lost: the image's overall tone, its colour, or its content.

    python bench/gtmean_headroom.py --data data/LOL-v1 \
        --weights curve-unet IAT=iat:../shared/peers/iat/best_Epoch_lol_v1.pth

For each contender, on each pair of the split (eval15 by default), the PSNR of its output after
corrections that look at the reference (oracles: they say how much of the gap each kind of error
holds, not what a method can reach):

  gt-mean   the output scaled to the reference's mean grey level (the usual GT-mean figure)
  gains     each channel scaled to the reference's channel mean (a perfect white balance)
  gamma     the best of 31 gammas (0.5-2.0) on the output, then GT-mean (a perfect global tone)
  affine    the least-squares 3x3 colour matrix plus offset from output to reference (perfect
            global tone and colour together, linear)

What is left under "affine" is what no global correction reaches: noise, detail, local tone.
Prints a Markdown table of the means (and, with --per-image, each pair's, with the gamma chosen).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from lowlight.errors import LowlightError
from lowlight.media.pairs import find_pairs
from lowlight.media.photo import read_image
from lowlight.research.metrics import gt_mean_scale, psnr
from real_photos import contenders

GAMMAS = np.linspace(0.5, 2.0, 31)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(2, 0, 1)[None]


def headroom(out: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """The four PSNRs (dB) of the module docstring for one uint8 output and its reference."""
    o, r = out.astype(np.float64) / 255.0, ref.astype(np.float64) / 255.0
    score = lambda a: float(psnr(_t(np.clip(a, 0.0, 1.0)), _t(r)))  # noqa: E731
    gt_mean = lambda a: float(psnr(gt_mean_scale(_t(a), _t(r)), _t(r)))  # noqa: E731
    gains = r.reshape(-1, 3).mean(0) / np.maximum(o.reshape(-1, 3).mean(0), 1e-6)
    x = np.c_[o.reshape(-1, 3), np.ones(o.size // 3)]
    fit, *_ = np.linalg.lstsq(x, r.reshape(-1, 3), rcond=None)
    by_gamma = [gt_mean(o ** g) for g in GAMMAS]
    return {"gt-mean": gt_mean(o), "gains": score(o * gains), "gamma": max(by_gamma),
            "affine": score((x @ fit).reshape(o.shape)), "best gamma": float(GAMMAS[int(np.argmax(by_gamma))])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/LOL-v1"))
    parser.add_argument("--split", choices=["train", "test"], default="test")
    parser.add_argument("--weights", nargs="*", default=["curve-unet"], metavar="NAME[=MODEL:FILE]")
    parser.add_argument("--methods", nargs="*", default=[])
    parser.add_argument("--per-image", action="store_true")
    args = parser.parse_args()
    try:
        pairs = find_pairs(args.data, args.split)
    except LowlightError as err:
        raise SystemExit(f"error: {err}") from None
    rows = {name: [(pair.name, headroom(run(read_image(pair.low)), read_image(pair.high))) for pair in pairs]
            for name, run in contenders(args.methods, args.weights).items()}
    keys = ["gt-mean", "gains", "gamma", "affine"]
    print(f"{args.data} ({args.split}, {len(pairs)} pairs): PSNR (dB) after corrections that look at the reference\n")
    print("| method | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name, rs in rows.items():
        print(f"| {name} | " + " | ".join(f"{np.mean([r[k] for _, r in rs]):.2f}" for k in keys) + " |")
    if args.per_image:
        print("\n| method, pair | " + " | ".join(keys) + " | best gamma |")
        print("|---|" + "---|" * (len(keys) + 1))
        for name, rs in rows.items():
            for pair_name, r in rs:
                print(f"| {name} {pair_name} | " + " | ".join(f"{r[k]:.2f}" for k in keys) + f" | {r['best gamma']:.2f} |")


if __name__ == "__main__":
    main()
