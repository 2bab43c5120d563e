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
reference's own mean luma, the ceiling a better guess of the brightness would reach. With
``--readability``, first: can the reference's brightness be read off the input's whole-image
statistics (channel means, luma quantiles and a 16-bin log histogram, noise in five brightness
bands and in chroma)? Ridge regression of log reference mean luma on them, 5-fold cross-validated
on our485 and fitted on all of it for eval15, against the plain spread of that log and against
taking the nearest-numbered training pair's (the same room, usually) or the mean of the three
nearest pairs by those statistics or by the scene (a small log thumbnail, exposure removed). And
each model's brightness error on eval15: the RMS of the log of its output's mean luma over the
reference's, beside which the readers' errors say how much of it any reader of the input could
remove.

    python bench/lol_brightness.py [--data ../shared/datasets/LOL-v1] [--weights FILE | --model NAME [--weights PEER_FILE]] [--readability]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

from lowlight.media.pairs import find_pairs, split_pairs
from lowlight.research.evaluation import score
from lowlight.core.enhancer import enhance, load_model
from lowlight.color import luma
from lowlight.research.metrics import mean_luma
from lowlight.media.photo import read_image

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


def descriptors(low: np.ndarray) -> np.ndarray:
    """Whole-image statistics of an 8-bit dark input that could tell how bright its reference is."""
    rgb = low.astype(np.float32) / 255.0
    y = luma(rgb)
    root = np.sqrt(y)
    detail = np.abs(root - uniform_filter(root, 3))  # shot noise has one spread in sqrt(luma)
    edges = np.quantile(root, np.linspace(0, 1, 6))
    band_noise = [np.median(detail[(root >= a) & (root <= b)]) for a, b in zip(edges[:-1], edges[1:])]
    chroma = rgb - y[..., None]
    chroma_noise = [np.median(np.abs(c - uniform_filter(c, 3))) for c in np.moveaxis(chroma, -1, 0)]
    hist = np.histogram(np.log(y + 1e-3), bins=16, range=(np.log(1e-3), 0.0))[0] / y.size
    return np.concatenate([rgb.reshape(-1, 3).mean(0), np.quantile(y, [0.1, 0.5, 0.9, 0.99, 0.999]),
                           [np.log(y + 1e-3).mean(), y.std()], hist,
                           np.log(np.array(band_noise) + 1e-4), np.log(np.array(chroma_noise) + 1e-4)])


def ridge_rms(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              lam: float = 10.0, folds: int = 5) -> tuple[float, float]:
    """RMS error of ridge regression (standardised inputs): ``folds``-fold on ``x``, then fitted on
    all of ``x`` for ``x_test``."""
    mu, sd = x.mean(0), x.std(0) + 1e-6

    def fit_predict(a, b, c):
        a1 = np.c_[(a - mu) / sd, np.ones(len(a))]
        w = np.linalg.solve(a1.T @ a1 + lam * np.eye(a1.shape[1]), a1.T @ b)
        return np.c_[(c - mu) / sd, np.ones(len(c))] @ w

    fold = np.random.default_rng(0).permutation(len(x)) % folds
    err = np.concatenate([fit_predict(x[fold != k], y[fold != k], x[fold == k]) - y[fold == k]
                          for k in range(folds)])
    return float(np.sqrt(np.mean(err ** 2))), float(np.sqrt(np.mean((fit_predict(x, y, x_test) - y_test) ** 2)))


def thumbnail(low: np.ndarray, side: int = 32) -> np.ndarray:
    """The scene, not its exposure: a ``side`` x ``side`` box-averaged log thumbnail, mean removed."""
    from PIL import Image

    t = np.log(np.asarray(Image.fromarray(low).resize((side, side), Image.BOX), dtype=np.float32) / 255.0 + 1e-3)
    return (t - t.mean()).ravel()


def knn_rms(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
            k: int = 3, folds: int = 5) -> tuple[float, float]:
    """RMS error of the mean target of the ``k`` nearest neighbours (standardised inputs), as
    :func:`ridge_rms`: a non-linear reader that can also recognise a room it has seen."""
    fold = np.random.default_rng(0).permutation(len(x)) % folds
    err = np.concatenate([knn_predict(x[fold != f], y[fold != f], x[fold == f], k) - y[fold == f]
                          for f in range(folds)])
    return float(np.sqrt(np.mean(err ** 2))), float(np.sqrt(np.mean((knn_predict(x, y, x_test, k) - y_test) ** 2)))


def knn_predict(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, k: int = 3) -> np.ndarray:
    """Mean ``y`` of the ``k`` nearest rows of ``x`` (standardised on ``x``) to each row of ``x_test``."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    d = ((((x_test - mu) / sd)[:, None] - ((x - mu) / sd)[None]) ** 2).sum(-1)
    return y[np.argsort(d, axis=1)[:, :k]].mean(1)


def readability(data: Path) -> dict[str, float]:
    """How well whole-image statistics of the input predict the reference's log mean luma; returns
    the best reader's guess (3 nearest pairs by the statistics, fitted on all of our485) for each
    eval15 image, by name."""
    sets = {}
    for split in ("train", "test"):
        pairs = [p for p in find_pairs(data, split) if p.name.isdigit()]
        lows = [read_image(p.low) for p in pairs]
        sets[split] = (np.array([descriptors(low) for low in lows]),
                       np.array([np.log(mean_luma(read_image(p.high))) for p in pairs]),
                       np.array([int(p.name) for p in pairs]), np.array([thumbnail(low) for low in lows]))
    (x, y, n, th), (xt, yt, nt, tht) = sets["train"], sets["test"]
    cv, test = ridge_rms(x, y, xt, yt)
    # The same room: the reference brightness of the nearest-numbered our485 pair (itself excluded).
    gap = np.abs(n[None, :] - n[:, None]).astype(float)
    np.fill_diagonal(gap, np.inf)
    near_cv = float(np.sqrt(np.mean((y[gap.argmin(1)] - y) ** 2)))
    near_test = float(np.sqrt(np.mean((y[np.abs(n[None, :] - nt[:, None]).argmin(1)] - yt) ** 2)))
    print("| log reference mean luma | our485, 5-fold | eval15 |\n|---|---|---|")
    print(f"| spread (std) | {y.std():.3f} | {yt.std():.3f} |")
    print(f"| ridge on {x.shape[1]} input statistics: RMS error | {cv:.3f} | {test:.3f} |")
    for label, (a, b) in ((f"3 nearest our485 pairs by the {x.shape[1]} statistics", (x, xt)),
                          ("3 nearest our485 pairs by the 32x32 log thumbnail (the same scene)", (th, tht))):
        k_cv, k_test = knn_rms(a, y, b, yt)
        print(f"| {label}: RMS error | {k_cv:.3f} | {k_test:.3f} |")
    print(f"| the nearest-numbered our485 pair's: RMS error | {near_cv:.3f} | {near_test:.3f} |\n")
    names = [p.name for p in find_pairs(data, "test") if p.name.isdigit()]
    return dict(zip(names, knn_predict(x, y, xt)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "LOL-v1"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--weights", help="weights file [the bundled default model]")
    parser.add_argument("--model", help="bundled model name, instead of --weights")
    parser.add_argument("--readability", action="store_true",
                        help="first, how well input statistics predict the reference's brightness")
    args = parser.parse_args()
    guesses = readability(args.data) if args.readability else {}

    train_pairs = find_pairs(args.data, "train")
    numbers = np.array([int(p.name) for p in train_pairs if p.name.isdigit()])
    print("| split | pairs | reference mean grey (min-max) | slope | r | residual (log) |")
    print("|---|---|---|---|---|---|")
    for split, pairs in (("train", train_pairs), ("test", find_pairs(args.data, "test"))):
        means = np.array([(read_image(p.low).mean(), read_image(p.high).mean()) for p in pairs])
        fit = log_fit(means[:, 0], means[:, 1])
        print(f"| {split} | {len(pairs)} | {means[:, 1].mean():.0f} ({means[:, 1].min():.0f}-{means[:, 1].max():.0f})"
              f" | {fit['slope']:.2f} | {fit['r']:.2f} | {fit['resid']:.2f} |")

    model = (load_model(args.model, weights=args.weights, device="cpu") if args.model and args.weights
             else load_model(args.weights or args.model, device="cpu"))
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
    log_err = np.array([np.log(mean_luma(o.astype(np.uint8)) / mean_luma(r)) for o, r in zip(outputs, refs)])
    print(f"\nBrightness error on eval15, log of output over reference mean luma: RMS {np.sqrt(np.mean(log_err ** 2)):.3f}, "
          f"mean {log_err.mean():+.3f}\n")
    if guesses:  # this model's content at the brightness the best reader of the input guesses
        names = [p.name for p in find_pairs(args.data, "test")]
        at_guess = [score(np.clip(np.rint(o * np.exp(guesses[name]) / mean_luma(o.astype(np.uint8))), 0, 255)
                          .astype(np.uint8), r)["psnr"] for o, r, name in zip(outputs, refs, names)]
        print(f"Each output scaled to the mean luma the best reader guesses (3 nearest our485 pairs by the "
              f"statistics): eval15 PSNR {np.mean(at_guess):.2f} dB (its own brightness: {rows[:, 0].mean():.2f}, "
              f"the reference's: {rows[:, 1].mean():.2f})\n")

    _, held_out = split_pairs(train_pairs, 0.1, 0)
    held_outs = [model(read_image(p.low)).astype(np.float64) for p in held_out]
    held_refs = [read_image(p.high) for p in held_out]
    held_err = np.array([np.log(mean_luma(o.astype(np.uint8)) / mean_luma(r)) for o, r in zip(held_outs, held_refs)])
    print(f"Brightness error on the {len(held_out)} held-out our485 pairs (seed 0; a model trained on all of our485 has "
          f"seen them): RMS {np.sqrt(np.mean(held_err ** 2)):.3f}, mean {held_err.mean():+.3f}")
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
