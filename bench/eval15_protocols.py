"""LOL-v1 eval15 under three protocols, one row per model: full resolution (plain and GT-mean),
the report's 150x150, and the dark inputs saved as a phone JPEG first.

    python bench/eval15_protocols.py [--data data/LOL-v1] [--weights curve-unet lol-v1 IAT=iat:FILE ...]

- full resolution: what `lowlight evaluate --gt-mean` reports (8-bit outputs; GT-mean scales
  each output to its reference's mean first, taking brightness guessing out);
- 150x150: `lowlight evaluate --resize 150x150`, both images shrunk first (the report's 21.62 dB
  was measured so);
- camera JPEG: `lowlight evaluate --jpeg 85 --gt-mean`, each dark input through a JPEG at quality
  85 with 4:2:0 chroma, scored against the PNG reference; its GT-mean beside the PNG's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lowlight.media.pairs import find_pairs
from lowlight.research.evaluation import evaluate
from real_photos import contenders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/LOL-v1"))
    parser.add_argument("--weights", nargs="*", default=["curve-unet"], metavar="NAME[=MODEL:FILE]")
    parser.add_argument("--methods", nargs="*", default=[])
    parser.add_argument("--jpeg", type=int, default=85, help="JPEG quality of the camera-JPEG protocol [85]")
    args = parser.parse_args()
    pairs = find_pairs(args.data, "test")
    print("| model | full res: PSNR / SSIM | full res, GT-mean: PSNR / SSIM | 150x150: PSNR / SSIM "
          f"| JPEG q{args.jpeg} inputs, GT-mean: PSNR / SSIM (PSNR change) |")
    print("|---|---|---|---|---|")
    for name, run in contenders(args.methods, args.weights).items():
        full = evaluate(run, pairs, gt_mean=True).mean
        small = evaluate(run, pairs, resize=(150, 150)).mean
        jpeg = evaluate(run, pairs, gt_mean=True, jpeg=args.jpeg).mean
        print(f"| {name} | {full['psnr']:.2f} / {full['ssim']:.4f} | {full['psnr_gtmean']:.2f} / "
              f"{full['ssim_gtmean']:.4f} | {small['psnr']:.2f} / {small['ssim']:.4f} | {jpeg['psnr_gtmean']:.2f} / "
              f"{jpeg['ssim_gtmean']:.4f} ({jpeg['psnr_gtmean'] - full['psnr_gtmean']:+.2f}) |")
    print(f"\n{len(pairs)} test pairs of {args.data}. The report: 21.62 dB on eval15 at 150x150 (SSIM not computed).")


if __name__ == "__main__":
    main()
