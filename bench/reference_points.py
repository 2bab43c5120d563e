"""Reference points on LOL-v1 eval15 at full resolution: the dark input itself and the report's
gamma 2.2 table alone, scored with lowlight's own metrics.

These match the numbers in ../shared/datasets/README.md (7.77 dB and 13.23 dB), which checks
the metric code and the gamma table against an outside measurement.

    python bench/reference_points.py [--data ../shared/datasets/LOL-v1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lowlight.color import apply_gamma
from lowlight.media.pairs import find_pairs
from lowlight.research.evaluation import evaluate

METHODS = {
    "identity (dark input)": lambda img: img,
    "gamma 2.2 LUT (the report's pre-processing)": lambda img: apply_gamma(img, 2.2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "LOL-v1"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    pairs = find_pairs(args.data, args.split)
    print("| method | PSNR (dB) | SSIM | PSNR GT-mean (dB) |\n|---|---|---|---|")
    for name, fn in METHODS.items():
        mean = evaluate(fn, pairs, gt_mean=True).mean
        print(f"| {name} | {mean['psnr']:.2f} | {mean['ssim']:.4f} | {mean['psnr_gtmean']:.2f} |")
    print(f"\n{len(pairs)} pairs from {args.data} ({args.split}), full resolution, 8-bit RGB in [0, 1].")


if __name__ == "__main__":
    main()
