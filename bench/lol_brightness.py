"""How much of a model's LOL-v1 error is overall brightness, and can brightness be read off the input?

Prints (1) for each split, how well the reference's mean grey level follows the dark input's
(least-squares fit of log means: slope, correlation, residual spread), and (2) per eval15 image:
the input, output and reference mean grey levels, plain PSNR and PSNR after scaling the output to
the reference's mean (GT-mean), so the brightness share of the error is visible image by image,
and how far the nearest training pair's number is (LOL numbers its pairs in shooting order, so
near numbers are usually the same room): means are given for images with and without one nearby.
Then (3) PSNR when every output is scaled by one factor, on eval15 and on the pairs training holds
out (10%, seed 0, as the shipped configs): is the model too bright or too dark overall? Last, (4)
for a model that takes a brightness target (``--brightness``): PSNR when it is given each
reference's own mean luma, the ceiling a better guess of the brightness would reach.

    python bench/lol_brightness.py [--data ../shared/datasets/LOL-v1] [--weights FILE | --model NAME]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lowlight.data import find_pairs, split_pairs
from lowlight.evaluation import score
from lowlight.inference import enhance, load_model
from lowlight.metrics import mean_luma
from lowlight.photo import read_image

NEAR = 5  #: a training pair this close in number counts as the same scene
SCALES = (0.8, 0.9, 0.95, 1.0, 1.05, 1.1)


def scaled_psnr(outputs: list[np.ndarray], refs: list[np.ndarray], factor: float) -> float:
    """Mean PSNR after multiplying every 8-bit output by ``factor`` (clipped, rounded)."""
    return float(np.mean([score(np.clip(np.rint(o * factor), 0, 255).astype(np.uint8), r)["psnr"]
                          for o, r in zip(outputs, refs)]))


def log_fit(inputs: np.ndarray, refs: np.ndarray) -> dict[str, float]:
    """Fit ``log(ref) = a * log(input) + b``: slope, correlation and residual std (in log units)."""
    x, y = np.log(inputs), np.log(refs)
    slope, intercept = np.polyfit(x, y, 1)
    return {"slope": float(slope), "r": float(np.corrcoef(x, y)[0, 1]),
            "resid": float(np.std(y - (slope * x + intercept)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "LOL-v1"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--weights", help="weights file [the bundled default model]")
    parser.add_argument("--model", help="bundled model name, instead of --weights")
    args = parser.parse_args()

    train_pairs = find_pairs(args.data, "train")
    numbers = np.array([int(p.name) for p in train_pairs if p.name.isdigit()])
    print("| split | pairs | reference mean grey (min-max) | slope | r | residual (log) |")
    print("|---|---|---|---|---|---|")
    for split, pairs in (("train", train_pairs), ("test", find_pairs(args.data, "test"))):
        means = np.array([(read_image(p.low).mean(), read_image(p.high).mean()) for p in pairs])
        fit = log_fit(means[:, 0], means[:, 1])
        print(f"| {split} | {len(pairs)} | {means[:, 1].mean():.0f} ({means[:, 1].min():.0f}-{means[:, 1].max():.0f})"
              f" | {fit['slope']:.2f} | {fit['r']:.2f} | {fit['resid']:.2f} |")

    model = load_model(args.weights or args.model, device="cpu")
    print(f"\n{model.name} ({args.weights or 'bundled weights'}) on eval15:\n")
    print("| image | nearest training pair | input | output | reference | PSNR | GT-mean PSNR |")
    print("|---|---|---|---|---|---|---|")
    rows, near, outputs, refs = [], [], [], []
    for pair in find_pairs(args.data, "test"):
        low, high = read_image(pair.low), read_image(pair.high)
        out = model(low)
        s = score(out, high, gt_mean=True)
        outputs.append(out.astype(np.float64))
        refs.append(high)
        rows.append((s["psnr"], s["psnr_gtmean"]))
        gap = int(np.abs(numbers - int(pair.name)).min()) if len(numbers) and pair.name.isdigit() else None
        near.append(gap is not None and gap <= NEAR)
        print(f"| {pair.name} | {'-' if gap is None else f'{gap} away'} | {low.mean():.0f} | {out.mean():.0f} "
              f"| {high.mean():.0f} | {s['psnr']:.2f} | {s['psnr_gtmean']:.2f} |")
    rows, near = np.array(rows), np.array(near)
    for label, keep in (("mean", near | ~near), (f"mean, training pair within {NEAR}", near),
                        (f"mean, none within {NEAR}", ~near)):
        if keep.any():
            plain, gtm = rows[keep].mean(axis=0)
            print(f"| {label} ({keep.sum()}) | | | | | {plain:.2f} | {gtm:.2f} |")

    _, held_out = split_pairs(train_pairs, 0.1, 0)
    held_outs = [model(read_image(p.low)).astype(np.float64) for p in held_out]
    held_refs = [read_image(p.high) for p in held_out]
    print("\n| every output times | " + " | ".join(f"{f:g}" for f in SCALES) + " |")
    print("|---|" + "---|" * len(SCALES))
    for label, outs, hs in ((f"{len(held_out)} held-out our485 pairs", held_outs, held_refs),
                            ("eval15", outputs, refs)):
        print(f"| {label} | " + " | ".join(f"{scaled_psnr(outs, hs, f):.2f}" for f in SCALES) + " |")

    if getattr(model.net, "takes_brightness", False):
        print("\n| given the reference's mean luma | PSNR | SSIM | its own guess: PSNR |")
        print("|---|---|---|---|")
        for label, pairs, outs in ((f"{len(held_out)} held-out our485 pairs", held_out, held_outs),
                                   ("eval15", find_pairs(args.data, "test"), outputs)):
            told = [score(enhance(read_image(p.low), model, brightness=mean_luma(read_image(p.high))),
                          read_image(p.high)) for p in pairs]
            own = np.mean([score(o.astype(np.uint8), read_image(p.high))["psnr"] for o, p in zip(outs, pairs)])
            print(f"| {label} | {np.mean([t['psnr'] for t in told]):.2f} | {np.mean([t['ssim'] for t in told]):.4f} "
                  f"| {own:.2f} |")


if __name__ == "__main__":
    main()
