"""``lowlight train`` and ``lowlight tune``: one flag per :class:`~lowlight.training.config.TrainConfig` field."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from ..errors import LowlightError
from .common import add_quiet

#: Settings a resumed run may change; everything else must match the run's own config.
_RESUME_CHANGEABLE = {"epochs", "max_minutes", "stop_after", "device", "workers"}


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train a model on image pairs",
                       description="Train a model on paired images. Settings come from --recipe, then "
                                   "--config, then the flags below, then --set key=value.")
    p.add_argument("--recipe", default="default", choices=["default", "seed", "seed-tuned"],
                   help="starting settings: default (small SID U-Net on crops), seed (exactly the "
                        "report's: seed-unet, gamma 2.2, 150x150, batch 4, lr 1e-4, ensemble of 5, "
                        "35 epochs), seed-tuned (the same with lr 5e-4) [default]")
    p.add_argument("--config", metavar="FILE", help="JSON settings (e.g. a run's config.json)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any setting (repeatable)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR (may raise --epochs)")
    p.add_argument("--overwrite", action="store_true", help="start again in an --out that holds a run")
    add_quiet(p)
    g = p.add_argument_group("data")
    g.add_argument("--data", metavar="DIR", help="training pairs (any supported layout)")
    g.add_argument("--extra-data", action="append", metavar="DIR",
                   help="more training pairs mixed in, e.g. lowlight synth output (repeatable; not validated on)")
    g.add_argument("--val-data", metavar="DIR", help="validation pairs [hold out --val-fraction of --data]")
    g.add_argument("--val-fraction", type=float, help="share of --data held out for validation [0.1]")
    g.add_argument("--out", metavar="RUN_DIR", help="run folder [runs/train]")
    g.add_argument("--gamma", type=float, help="gamma LUT on the dark input, e.g. 2.2 [off]")
    g.add_argument("--resize", help="resize training pairs, e.g. 150 or 150x150 [off]")
    g.add_argument("--crop", type=int, help="random square crop size for training [128]")
    g.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random flips and 90-degree rotations [on]")
    g.add_argument("--jpeg", type=float, metavar="P",
                   help="chance each --data pair's dark input is saved as a phone JPEG (quality 70-95, "
                        "4:2:0) first, drawn afresh each epoch [0]")
    g.add_argument("--repeat", type=int, help="passes over the pairs per epoch [1]")
    g.add_argument("--data-repeat", type=int, metavar="N",
                   help="each --data pair appears N times per pass, each --extra-data pair once [1]")
    g.add_argument("--max-pairs", type=int, help="use only the first N training pairs")
    g = p.add_argument_group("model")
    g.add_argument("--model", metavar="NAME", help="registered model to train (`lowlight models`) [sid-unet, the SID U-Net; "
                        "the bundled curve-unet's recipe is configs/curve-unet.json]")
    g.add_argument("--width", type=int, help="channels at the first level")
    g.add_argument("--depth", type=int, help="number of down-sampling levels")
    g.add_argument("--ensemble", type=int, help="models trained side by side, best kept [1]")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, help="[20]")
    g.add_argument("--max-minutes", type=float, metavar="M",
                   help="stop once M minutes of training are spent, mid-epoch if need be; validation "
                        "is not counted (for equal-time comparisons)")
    g.add_argument("--batch-size", type=int, help="[8]")
    g.add_argument("--lr", type=float, help="AdamW learning rate [5e-4]")
    g.add_argument("--weight-decay", type=float, help="AdamW weight decay [1e-4]")
    g.add_argument("--loss", choices=["mse", "l1", "charbonnier", "ssim", "l1+ssim"], help="[mse]")
    g.add_argument("--forgive-white", action=argparse.BooleanOptionalAction, default=None,
                   help="no loss where the reference is clipped white and the output brighter: "
                        "outputs are clamped to white anyway, and the penalty teaches dark halos [off]")
    g.add_argument("--gt-mean-data", action=argparse.BooleanOptionalAction, default=None,
                   help="take the loss on --data pairs (and validation) after scaling each output to its "
                        "reference's mean grey level: for references, like LOL's, whose brightness the "
                        "photographer chose; --extra-data pairs still teach brightness [off]")
    g.add_argument("--scheduler", choices=["plateau", "cosine"],
                   help="plateau: halve on a validation plateau (the report's); cosine: decay to lr/100 [plateau]")
    g.add_argument("--patience", type=int, dest="plateau_patience", help="ReduceLROnPlateau patience in epochs [2]")
    g.add_argument("--factor", type=float, dest="plateau_factor", help="ReduceLROnPlateau factor [0.5]")
    g.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="fp16 mixed precision on CUDA (CPU always trains in fp32) [on]")
    g.add_argument("--accumulation", type=int, help="batches per optimiser step [1]")
    g.add_argument("--clip-norm", type=float, help="max gradient norm, 0 to disable [1.0]")
    g.add_argument("--seed", type=int, help="[0]")
    g.add_argument("--device", help="auto, cpu or cuda [auto]")
    g.add_argument("--workers", type=int, help="data loader processes [0]")
    p.set_defaults(func=run_train)


    p = sub.add_parser("tune", help="hyperparameter search with Optuna (resumable)",
                       description="Search learning rate, batch size, accumulation, weight decay and model "
                                   "width; prune weak trials on validation PSNR. The study is kept in "
                                   "SQLite: run the same command again to resume it.")
    p.add_argument("--data", required=True, metavar="DIR", help="training pairs")
    p.add_argument("--val-data", metavar="DIR", help="validation pairs [hold out 10%% of --data]")
    p.add_argument("--trials", type=int, required=True, help="total trials wanted (finished ones count)")
    p.add_argument("--epochs", type=int, help="epochs per trial [the recipe's]")
    p.add_argument("--out", dest="out_dir", default="runs/tune", metavar="DIR", help="[runs/tune]")
    p.add_argument("--storage", metavar="URL", help="Optuna storage [sqlite:///OUT/study.db]")
    p.add_argument("--tune-seed", type=int, default=0, help="sampler seed [0]")
    p.add_argument("--recipe", default="default", choices=["default", "seed", "seed-tuned"],
                   help="base settings of every trial [default]")
    p.add_argument("--config", metavar="FILE", help="base settings from JSON")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a base setting")
    p.add_argument("--model", metavar="NAME", help="registered model [the recipe's]")
    p.add_argument("--width", type=int, help="base width; trials try half, this and double")
    p.add_argument("--depth", type=int)
    p.add_argument("--device", help="auto, cpu or cuda [auto]")
    add_quiet(p)
    p.set_defaults(func=run_tune)


def build_train_config(args: argparse.Namespace):
    """recipe <- --config file <- explicit flags <- --set, each converted to the field's type."""
    from ..training import config as C

    explicit = {f.name: getattr(args, f.name) for f in fields(C.TrainConfig)
                if getattr(args, f.name, None) is not None}  # flags are named for the fields they set
    if explicit.get("clip_norm") == 0:
        explicit["clip_norm"] = None  # --clip-norm 0 disables clipping
    model_args = {}
    for key in ("width", "depth"):
        if getattr(args, key, None) is not None:
            model_args[key] = getattr(args, key)
    sets = C.parse_assignments(args.set or [])
    if getattr(args, "resume", None):
        run = Path(args.resume)
        if not (run / "config.json").is_file():
            raise LowlightError(f"nothing to resume in {run}: no config.json; pass the --out folder of "
                                "an earlier `lowlight train`")
        cfg = C.apply(C.TrainConfig(), C.load_config_file(run / "config.json"))
        changed = sorted((set(explicit) | set(sets) | ({"model_args"} if model_args else set()))
                         - _RESUME_CHANGEABLE)
        if changed:
            raise LowlightError(f"cannot change {changed[0]} when resuming; only "
                                f"{', '.join(sorted(_RESUME_CHANGEABLE))} may change")
        return C.apply(cfg, {**explicit, **sets, "out": str(run)})
    cfg = C.recipe(args.recipe)
    if args.config:
        cfg = C.apply(cfg, C.load_config_file(Path(args.config)))
    cfg = C.apply(cfg, explicit)
    if model_args:
        cfg = C.apply(cfg, {"model_args": {**cfg.model_args, **model_args}})
    return C.apply(cfg, sets)


def run_train(args: argparse.Namespace) -> int:
    from ..training.loop import train

    cfg = build_train_config(args)
    result = train(cfg, resume=bool(args.resume), progress=not args.quiet, overwrite=args.overwrite)
    best = result.best
    print(f"best: epoch {best['epoch']}, val loss {best['val_loss']:.5f}, PSNR {best['psnr']:.2f} dB, "
          f"SSIM {best['ssim']:.4f} -> {result.out / 'best.safetensors'}")
    return 0


def run_tune(args: argparse.Namespace) -> int:
    from ..training.tune import TuneConfig, tune

    if args.trials < 1:
        raise LowlightError(f"--trials must be at least 1, got {args.trials}")
    base = build_train_config(args)
    tcfg = TuneConfig(out=args.out_dir, trials=args.trials, seed=args.tune_seed, storage=args.storage)
    study = tune(base, tcfg, progress=not args.quiet)
    out = Path(args.out_dir)
    print((out / "trials.md").read_text(encoding="utf-8"))
    complete = [t for t in study.trials if t.value is not None]
    if complete:
        best = study.best_trial
        print(f"best: trial {best.number}, validation PSNR {best.value:.2f} dB; "
              f"train with: lowlight train --config {out / 'best_config.json'}")
    return 0
