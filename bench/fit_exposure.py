"""Refit the brightness predictor of an ``exposure`` curve-unet alone, on whole-image descriptors.

The predictor sees only whole-image context (statistics, noise level, a 64x64 thumbnail), so it
can be trained on those, computed once per training pair under the 8 flips and rotations, for
thousands of steps in the minutes the image network needs for one epoch (``--crops`` adds random
crops of each pair, for a guess meant to hold across framings). Kept: the step with the
lowest mean of two errors, on the run's held-out pairs (LOL) and on a seeded 10% of the extra
(synthetic) pairs held out of this fit (never eval15 or the test photos). The rest of the network is unchanged:
in training it is conditioned on the reference's brightness and never sees the guess. The
predictor starts afresh (seeded); the one trained beside the network is replaced.

    python bench/fit_exposure.py runs/curve-unet-exposure/best.safetensors \\
        --config configs/curve-unet-exposure.json --out runs/curve-unet-exposure/fitted.safetensors
"""

from __future__ import annotations

import argparse
import copy
import math
from pathlib import Path

import numpy as np
import torch

from lowlight.core.checkpoint import load_weights, read_metadata, save_weights
from lowlight.training.config import TrainConfig, apply, load_config_file
from lowlight.research.evaluation import evaluate
from lowlight.core.enhancer import Enhancer
from lowlight.training.losses import get_loss
from lowlight.models.curve_unet import ExposurePredictor
from lowlight.media.photo import read_image, to_tensor
from lowlight.progress import progress as progress_bar
from lowlight.training.loop import training_pairs


def descriptors(net, pairs, views: int, crops: int = 0, seed: int = 0):
    """Context, noise level and target log-ratio of every pair under ``views`` flips/rotations,
    plus ``crops`` random crops of each (a tenth to three fifths of each side, at least 32 pixels,
    random orientation): photos come at every size and framing, not only as LOL's whole frames."""
    rng = np.random.default_rng(seed)
    ctx, noise, target = [], [], []

    def add(lo: np.ndarray, hi: np.ndarray) -> None:
        with torch.no_grad():
            s = net.training_context(to_tensor(np.ascontiguousarray(lo)), to_tensor(np.ascontiguousarray(hi)))
        ctx.append(s[:, :-3])
        noise.append(s[:, -3:-2])
        target.append(s[:, -1:])

    for pair in progress_bar(pairs, True, desc="descriptors", unit="pair"):
        low, high = read_image(pair.low), read_image(pair.high)
        for v in range(views + crops):
            lo, hi = low, high
            if v >= views:
                h, w = low.shape[:2]
                ch, cw = (max(32, int(rng.uniform(0.1, 0.6) * n)) for n in (h, w))
                y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
                lo, hi = low[y:y + ch, x:x + cw], high[y:y + ch, x:x + cw]
            k = v % 4 if v < views else int(rng.integers(4))
            lo, hi = np.rot90(lo, k), np.rot90(hi, k)
            if (v >= 4 and v < views) or (v >= views and rng.random() < 0.5):
                lo, hi = lo[:, ::-1], hi[:, ::-1]
            add(lo, hi)
    return torch.cat(ctx), torch.cat(noise), torch.cat(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="an exposure curve-unet's weights file")
    parser.add_argument("--config", type=Path, required=True, help="the run's config (its pairs and split)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the refitted weights")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--identity-weight", type=float, default=1.0,
                        help="how much more often to draw pairs whose reference is their input (nothing to "
                             "brighten): above 1, a guess that leaves ambiguous photos alone more often [1]")
    parser.add_argument("--views", type=int, default=4, help="flips/rotations of each training pair, 1-8 [4]")
    parser.add_argument("--crops", type=int, default=0, help="random crops of each training pair [0]")
    args = parser.parse_args()

    cfg = apply(TrainConfig(), load_config_file(args.config))
    train, val, n_main = training_pairs(cfg)
    net, meta = load_weights(args.weights)
    net.eval()
    if not getattr(net, "exposure", False):
        raise SystemExit(f"{args.weights} is not an exposure model (model_args exposure=true)")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    extra = np.arange(n_main, len(train))
    held = set(rng.choice(extra, len(extra) // 10, replace=False).tolist())
    fit_pairs = [p for i, p in enumerate(train) if i not in held]
    x, n, y = descriptors(net, fit_pairs, args.views, args.crops, args.seed)
    checks = [descriptors(net, val, 1), descriptors(net, [train[i] for i in sorted(held)], 1)]
    # Sample as training does: the main data set's pairs data_repeat times as often as the extra ones.
    weight = torch.tensor([cfg.data_repeat if i < n_main else 1.0 for i in range(len(train)) if i not in held])
    weight = weight.repeat_interleave(args.views + args.crops)
    weight[y[:, 0] < 1e-4] *= args.identity_weight

    predictor = net.predictor = ExposurePredictor(net.thumb)  # from scratch, seeded
    opt = torch.optim.AdamW(predictor.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / args.steps)))

    def val_error() -> float:
        """Mean |log error| on the held-out LOL pairs and on the held-out synthetic pairs, averaged."""
        predictor.eval()
        with torch.no_grad():
            err = float(np.mean([(predictor(cx, cn) - cy).abs().mean().item() for cx, cn, cy in checks]))
        predictor.train()
        return err

    best = (val_error(), 0, copy.deepcopy(predictor.state_dict()))
    print(f"start: held-out |log error| {best[0]:.4f}")
    predictor.train()
    for step in progress_bar(range(1, args.steps + 1), True, desc="fitting", unit="step"):
        idx = torch.multinomial(weight, args.batch_size, replacement=True)
        loss = (predictor(x[idx], n[idx]) - y[idx]).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            err = val_error()
            if err < best[0]:
                best = (err, step, copy.deepcopy(predictor.state_dict()))
    predictor.load_state_dict(best[2])
    predictor.eval()
    with torch.no_grad():
        train_err = (predictor(x, n) - y).abs().mean().item()
    print(f"kept step {best[1]}: held-out |log error| {best[0]:.4f}, training {train_err:.4f}")
    # The run's validation scores were measured with the old guess: measure them again.
    scores = evaluate(Enhancer(net, meta["model"], meta["model_args"]), val, loss=get_loss(cfg.loss)).mean
    print(f"held-out pairs with the refitted guess: PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.4f}")
    source = read_metadata(args.weights)
    training = dict(source["training"], exposure_refit={"steps": args.steps, "kept_step": best[1],
                                                        "batch_size": args.batch_size, "lr": args.lr,
                                                        "identity_weight": args.identity_weight,
                                                        "views": args.views, "crops": args.crops,
                                                        "seed": args.seed, "config": str(args.config)})
    metrics = dict(source["metrics"], psnr=scores["psnr"], ssim=scores["ssim"], val_loss=scores["loss"],
                   val_exposure_error=round(best[0], 4))
    save_weights(args.out, net, meta["model"], source["model_args"], source["preprocess"], training, metrics)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
