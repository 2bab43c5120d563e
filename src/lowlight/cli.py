"""The ``lowlight`` command: enhance, evaluate, train, compare, tune, synth, export, benchmark, models.

Heavy imports (torch) happen inside each command, so ``--help`` and ``--version`` are instant.
Every user error is a :class:`~lowlight.errors.LowlightError`: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import LowlightError

EXIT_USAGE = 2


# -- synth ---------------------------------------------------------------------------------------
def cmd_synth(args: argparse.Namespace) -> int:
    from .synth import synthesize

    records = synthesize(Path(args.photos), Path(args.out), count=args.count, size=args.size,
                         seed=args.seed, split=args.split, color_cast=args.color_cast,
                         jpeg=args.jpeg, lights=args.lights, exposure_range=tuple(args.exposure),
                         identity=args.identity, vary=args.vary, tint=args.tint, progress=not args.quiet)
    print(f"wrote {len(records)} pairs to {args.out}/low and {args.out}/high (parameters in pairs.jsonl)")
    return 0


# -- models --------------------------------------------------------------------------------------
def cmd_models(args: argparse.Namespace) -> int:
    import torch

    from .inference import DEFAULT_MODEL, pretrained_models
    from .models import count_parameters, create_model, get_entry, gmacs, list_models

    shipped = set(pretrained_models())
    print(f"{'name':<12} {'params':>10} {'GMACs@600x400':>14}  {'weights':<18} description")
    for name in list_models():
        args = {}
        if name in shipped:  # describe what ships, which may set arguments the registry leaves off
            from .checkpoint import read_metadata
            from .inference import bundled_weights

            args = read_metadata(bundled_weights(name))["model_args"]
        with torch.device("meta"):
            net = create_model(name, **args)
        weights = ("bundled, default" if name == DEFAULT_MODEL else "bundled") if name in shipped else "-"
        print(f"{name:<12} {count_parameters(net) / 1e6:>9.2f}M {gmacs(net, 400, 600):>14.1f}  {weights:<18} "
              f"{get_entry(name).description}")
    return 0


# -- train ---------------------------------------------------------------------------------------
_TRAIN_FLAGS = {  # CLI dest -> TrainConfig field
    "data": "data", "extra_data": "extra_data", "val_data": "val_data", "val_fraction": "val_fraction",
    "out": "out", "model": "model", "gamma": "gamma", "resize": "resize", "crop": "crop", "augment": "augment",
    "repeat": "repeat", "data_repeat": "data_repeat", "max_pairs": "max_pairs", "batch_size": "batch_size", "lr": "lr",
    "weight_decay": "weight_decay", "loss": "loss", "forgive_white": "forgive_white", "scheduler": "scheduler",
    "patience": "plateau_patience", "factor": "plateau_factor", "amp": "amp", "accumulation": "accumulation",
    "clip_norm": "clip_norm", "ensemble": "ensemble", "epochs": "epochs", "max_minutes": "max_minutes",
    "seed": "seed", "device": "device", "workers": "workers",
}
_RESUME_CHANGEABLE = {"epochs", "max_minutes", "device", "workers"}


def build_train_config(args: argparse.Namespace):
    """recipe <- --config file <- explicit flags <- --set, each converted to the field's type."""
    from . import config as C

    explicit = {field: getattr(args, dest) for dest, field in _TRAIN_FLAGS.items()
                if getattr(args, dest, None) is not None}
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


def cmd_train(args: argparse.Namespace) -> int:
    from .training import train

    cfg = build_train_config(args)
    result = train(cfg, resume=bool(args.resume), progress=not args.quiet, overwrite=args.overwrite)
    best = result.best
    print(f"best: epoch {best['epoch']}, val loss {best['val_loss']:.5f}, PSNR {best['psnr']:.2f} dB, "
          f"SSIM {best['ssim']:.4f} -> {result.out / 'best.safetensors'}")
    return 0


# -- evaluate ------------------------------------------------------------------------------------
def _load_enhancer(args: argparse.Namespace):
    """The model or classical method the flags name (at most one of --weights, --model, --method;
    none means the bundled default model)."""
    from .inference import load_model

    given = [flag for flag in ("weights", "model", "method") if getattr(args, flag)]
    if len(given) > 1:
        raise LowlightError(f"pass only one of --weights, --model and --method (got {', '.join(given)})")
    if args.method:
        from .classical import make_method
        from .config import parse_assignments

        if getattr(args, "backend", None):
            raise LowlightError("--backend applies to models, not to --method")
        return make_method(args.method, **parse_assignments(args.method_arg or [], "--method-arg"))
    if args.method_arg:
        raise LowlightError("--method-arg applies to --method only")
    backend = getattr(args, "backend", None)
    return load_model(args.weights or args.model, device=args.device, backend=backend,  # none: the default
                      threads=getattr(args, "threads", None))


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from .data import find_pairs
    from .evaluation import evaluate, format_table

    pairs = find_pairs(Path(args.data), args.split)
    enhancer = _load_enhancer(args)
    result = evaluate(enhancer, pairs, gt_mean=args.gt_mean,
                      save_dir=Path(args.save) if args.save else None, progress=not args.quiet)
    if args.json:
        print(json.dumps({"data": str(args.data), "model": enhancer.name, **result.to_dict()}, indent=2))
    else:
        print(format_table(result))
        if args.gt_mean:
            print("*_gtmean: output rescaled to the reference's mean grey level first (not comparable "
                  "with plain PSNR/SSIM)")
    return 0


# -- compare -------------------------------------------------------------------------------------
def cmd_compare(args: argparse.Namespace) -> int:
    from .classical import make_method
    from .compare import Contender, compare, image_grid, markdown_table, write_report
    from .data import find_pairs
    from .inference import load_model

    if not args.data and not args.images:
        raise LowlightError("nothing to compare on: pass --data DIR (pairs, scored) and/or --images FILE... "
                            "(photos without references, grid only)")
    contenders = [Contender(name, make_method(name)) for name in args.methods or []]
    for w in args.weights or []:
        label, _, file = w.rpartition("=")
        path = Path(file)
        label = label or (f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem)
        contenders.append(Contender(label, load_model(path, device=args.device)))
    if not contenders:
        raise LowlightError("nothing to compare: pass --methods NAME... and/or --weights FILE...")
    if args.grid < 0:
        raise LowlightError(f"--grid must be 0 or more, got {args.grid}")
    out = Path(args.out)
    rows, grid = [], None
    if args.data:
        pairs = find_pairs(Path(args.data), args.split)
        rows = compare(contenders, pairs, progress=not args.quiet, gt_mean=args.gt_mean)
        grid = image_grid(contenders, pairs[: args.grid]) if args.grid else None
    if args.images:
        photos = _collect_inputs(args.images)
        grid = image_grid(contenders, photos, cell=args.cell)
    write_report(rows, grid, out)
    if rows:
        print(markdown_table(rows))
        print(f"\n{len(pairs)} pairs from {args.data}, full resolution; wrote {out}/results.md, results.csv"
              + (", grid.png" if grid else ""))
    else:
        print(f"wrote {out}/grid.png ({len(photos)} photos)")
    return 0


# -- tune ----------------------------------------------------------------------------------------
def cmd_tune(args: argparse.Namespace) -> int:
    from .tune import TuneConfig, tune

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


# -- enhance -------------------------------------------------------------------------------------
def _collect_inputs(inputs: list[str]) -> list[Path]:
    from .batch import collect_inputs

    return [f for f, _ in collect_inputs(inputs)]


def cmd_enhance(args: argparse.Namespace) -> int:
    from . import batch
    from .inference import Enhancer, _enhance_photo
    from .photo import read_photo, write_photo
    from .progress import progress as progress_bar

    suffix = args.suffix if args.suffix is not None else ("" if args.output else "_enhanced")
    if not 1 <= args.quality <= 100:
        raise LowlightError(f"--quality must be between 1 and 100, got {args.quality}")
    if not 0.0 <= args.strength <= 1.0:
        raise LowlightError(f"--strength must be between 0 and 1, got {args.strength}")
    if args.tile is not None and args.tile < 0:
        raise LowlightError(f"--tile must be 0 (never tile) or a size in pixels, got {args.tile}")
    inputs = batch.collect_inputs(args.inputs, recursive=args.recursive)
    output = Path(args.output) if args.output else None
    jobs = batch.plan(inputs, output, suffix, batch.normalise_ext(args.ext))
    enhancer = _load_enhancer(args)
    options = dict(strength=args.strength, exposure=args.exposure, tile=args.tile, overlap=args.tile_overlap)

    def work(job: batch.Job) -> None:
        photo = read_photo(job.source)
        if isinstance(enhancer, Enhancer):
            result = _enhance_photo(enhancer, photo, options)
        else:  # a classical method works on 8-bit RGB
            from dataclasses import replace

            import numpy as np

            if args.strength != 1.0 or args.exposure != 0.0:
                raise LowlightError("--strength and --exposure apply to models, not to --method")
            rgb8 = np.round(photo.rgb * 255.0).astype(np.uint8)
            result = replace(photo, rgb=enhancer(rgb8).astype(np.float32) / 255.0)
        write_photo(result, job.target, quality=args.quality)

    single = len(jobs) == 1
    bar = progress_bar(jobs, not (args.quiet or single), desc="enhance", unit="img")
    failures: list[str] = []

    def report(job: batch.Job, status: str) -> None:
        if status.startswith("failed"):
            failures.append(f"{job.source}: {status[len('failed: '):]}")
            print(f"lowlight: error: {job.source}: {status[len('failed: '):]}", file=sys.stderr)
        elif single and not args.quiet:
            print(f"{job.source} -> {job.target}" if status == "done" else f"{job.target} exists; skipped "
                  "(pass --overwrite to replace it)")

    summary = batch.run(bar, work, overwrite=args.overwrite, on_done=report)
    if not args.quiet and not single:
        print(f"enhanced {len(summary.done)}, skipped {len(summary.skipped)} existing"
              f"{' (--overwrite replaces them)' if summary.skipped else ''}, failed {len(summary.failed)}")
    return 1 if summary.failed else 0


# -- parser --------------------------------------------------------------------------------------
def _add_model_flags(p: argparse.ArgumentParser) -> None:
    from .classical import METHODS

    g = p.add_argument_group("model or method (at most one; default: the bundled model)")
    g.add_argument("--weights", metavar="FILE",
                   help="a .safetensors file from `lowlight train` or an .onnx file from `lowlight export`")
    g.add_argument("--model", metavar="NAME", help="a registered model with bundled weights (`lowlight models`)")
    g.add_argument("--method", choices=list(METHODS), metavar="NAME",
                   help=f"a classical method: {', '.join(METHODS)}")
    g.add_argument("--method-arg", action="append", metavar="KEY=VALUE",
                   help="a parameter of --method, e.g. clip_limit=3 (repeatable; see docs/BASELINES.md)")
    g.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda [auto]")
    g.add_argument("--backend", choices=["torch", "onnx"],
                   help="run the model with PyTorch or ONNX Runtime (pip install 'lowlight[onnx]') "
                        "[torch; onnx for .onnx files]")
    g.add_argument("--threads", type=int, metavar="N", help="CPU threads [PyTorch's or ONNX Runtime's default]")


# -- benchmark -----------------------------------------------------------------------------------
def cmd_benchmark(args: argparse.Namespace) -> int:
    import json

    from .benchmark import as_dicts, machine, markdown_table, run_benchmark
    from .config import parse_size
    from .inference import load_model
    from .models import count_parameters, gmacs

    if args.weights and args.model:
        raise LowlightError("pass only one of --weights and --model")
    try:
        small, large = parse_size(args.size), parse_size(args.large)
    except ValueError:
        raise LowlightError(f"sizes are WIDTHxHEIGHT, e.g. 600x400; got {args.size} and {args.large}") from None
    if any(n < 1 for n in args.threads):
        raise LowlightError("--threads takes positive counts, e.g. --threads 1 2")
    source = args.weights or args.model
    enhancer = load_model(source, device="cpu")
    params, macs = count_parameters(enhancer.net), gmacs(enhancer.net, small[1], small[0])
    header = (f"{enhancer.name}: {params / 1e6:.2f}M parameters, {macs:.2f} GMACs at {small[0]}x{small[1]}; "
              f"{machine()}; fp32, median of {args.repeats} ({args.large_repeats} at {large[0]}x{large[1]})")
    if not args.quiet:
        print(header, file=sys.stderr if args.json else sys.stdout)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    rows = run_benchmark(source, args.backends, args.threads, small, large, args.repeats, args.large_repeats, log)
    if args.json:
        print(json.dumps({"model": enhancer.name, "parameters": params, "gmacs": macs, "machine": machine(),
                          "small": list(small), "large": list(large), "rows": as_dicts(rows)}, indent=2))
    else:
        print(markdown_table(rows, small))
    return 0


# -- export --------------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from .inference import load_model
    from .onnx_backend import export_onnx, load_onnx

    if args.weights and args.model:
        raise LowlightError("pass only one of --weights and --model")
    target = Path(args.onnx)
    if target.suffix.lower() != ".onnx":
        raise LowlightError(f"--onnx expects a file name ending in .onnx, got {target}")
    source = args.weights or args.model
    if source and Path(source).suffix == ".onnx":
        raise LowlightError(f"{source} is already an ONNX file; pass the .safetensors weights to export")
    enhancer = load_model(source, device="cpu")
    if target.resolve() == Path(enhancer.metadata["_path"]).resolve():
        raise LowlightError(f"refusing to overwrite the weights {target} with the export; choose another name")
    if target.exists() and not args.overwrite:
        raise LowlightError(f"{target} exists; pass --overwrite to replace it")
    data = export_onnx(enhancer, target, opset=args.opset)
    if args.check:
        import numpy as np
        import torch

        check = load_onnx(data)
        image = torch.rand(1, 3, 203, 301, generator=torch.Generator().manual_seed(0)) ** 2
        diff = (enhancer.process(image, tile=0) - check.process(image, tile=0)).abs().max().item()
        print(f"checked: ONNX Runtime vs PyTorch on a 301x203 image, max difference {diff * 255:.3f}/255")
        if not np.isfinite(diff) or diff > 1 / 255:
            raise LowlightError(f"the export differs from PyTorch by {diff * 255:.2f}/255 (more than 1/255)")
    print(f"wrote {target} ({len(data) / 1e6:.1f} MB, {enhancer.name}); run it with "
          f"`lowlight enhance IMAGE --weights {target}` or any ONNX runtime")
    return 0


def _add_weights_flags(p: argparse.ArgumentParser) -> None:
    """--weights/--model for commands that take a trained model only (no classical methods)."""
    p.add_argument("--weights", metavar="FILE", help="a .safetensors file from `lowlight train` [bundled]")
    p.add_argument("--model", metavar="NAME", help="a registered model with bundled weights [gain-unet]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lowlight", description="Make photos taken in the dark look as if they were taken in good light.")
    parser.add_argument("--version", action="version", version=f"lowlight {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("enhance", help="enhance dark photos (files, folders or globs)",
                       description="Enhance dark photos with the bundled model (or --weights/--model/--method). "
                                   "Inputs are never overwritten; existing outputs are skipped unless "
                                   "--overwrite; a file that fails is reported and the rest go on (exit 1).")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output folder (or a file name for one input) [next to each input, with --suffix]")
    p.add_argument("-r", "--recursive", action="store_true", help="also enhance images in subfolders")
    p.add_argument("--suffix", help="added to each output's file stem [_enhanced without -o, none with -o]")
    p.add_argument("--ext", help="output format: png, jpg, webp, tif, bmp [same as input]")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality, 1-100 [95]")
    g = p.add_argument_group("adjustments")
    g.add_argument("--strength", type=float, default=1.0, help="0 keeps the input, 1 the full enhancement [1]")
    g.add_argument("--exposure", type=float, default=0.0, metavar="STOPS",
                   help="brighten (+) or darken (-) the result by stops of light [0]")
    g = p.add_argument_group("memory")
    g.add_argument("--tile", type=int, metavar="PX",
                   help="process in PX-pixel tiles (0: never) [auto: whole images up to 8 MP, else 1536]")
    g.add_argument("--tile-overlap", type=int, default=256, metavar="PX", help="overlap between tiles [256]")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    _add_model_flags(p)
    p.set_defaults(func=cmd_enhance)

    p = sub.add_parser("evaluate", help="PSNR/SSIM of a model on image pairs at full resolution",
                       description="Score a model on paired images at full resolution (8-bit output, "
                                   "RGB in [0, 1]): PSNR and SSIM (11x11 Gaussian window, sigma 1.5).")
    p.add_argument("--data", required=True, metavar="DIR", help="a dataset folder (any supported layout)")
    p.add_argument("--split", choices=["train", "test"], default="test",
                   help="which part of a dataset root with both (e.g. LOL-v1 eval15) [test]")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--gt-mean", action="store_true",
                   help="also report the GT-mean variant (labelled *_gtmean, kept apart)")
    p.add_argument("--save", metavar="DIR", help="also write the enhanced images here")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_model_flags(p)
    p.set_defaults(func=cmd_evaluate)

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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
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
    g.add_argument("--repeat", type=int, help="passes over the pairs per epoch [1]")
    g.add_argument("--data-repeat", type=int, metavar="N",
                   help="each --data pair appears N times per pass, each --extra-data pair once [1]")
    g.add_argument("--max-pairs", type=int, help="use only the first N training pairs")
    g = p.add_argument_group("model")
    g.add_argument("--model", metavar="NAME", help="registered model (`lowlight models`) [sid-unet]")
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
    g.add_argument("--scheduler", choices=["plateau", "cosine"],
                   help="plateau: halve on a validation plateau (the report's); cosine: decay to lr/100 [plateau]")
    g.add_argument("--patience", type=int, help="ReduceLROnPlateau patience in epochs [2]")
    g.add_argument("--factor", type=float, help="ReduceLROnPlateau factor [0.5]")
    g.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="fp16 mixed precision on CUDA (CPU always trains in fp32) [on]")
    g.add_argument("--accumulation", type=int, help="batches per optimiser step [1]")
    g.add_argument("--clip-norm", type=float, help="max gradient norm, 0 to disable [1.0]")
    g.add_argument("--seed", type=int, help="[0]")
    g.add_argument("--device", help="auto, cpu or cuda [auto]")
    g.add_argument("--workers", type=int, help="data loader processes [0]")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("compare", help="compare methods and models: one table and one image grid",
                       description="Score classical methods and trained models on the same pairs at full "
                                   "resolution; writes results.md, results.csv and grid.png.")
    p.add_argument("--data", metavar="DIR", help="a dataset folder of pairs (any supported layout)")
    p.add_argument("--images", nargs="+", metavar="PATH",
                   help="photos without references (files, folders or globs): grid.png only, one row each")
    p.add_argument("--split", choices=["train", "test"], default="test", help="[test]")
    p.add_argument("--methods", nargs="+", metavar="NAME", help="classical methods (default parameters)")
    p.add_argument("--weights", nargs="+", metavar="[LABEL=]FILE",
                   help="trained models (.safetensors), optionally labelled, e.g. sid=runs/sid/best.safetensors")
    p.add_argument("--gt-mean", action="store_true",
                   help="add GT-mean PSNR/SSIM columns (output scaled to the reference's mean; labelled apart)")
    p.add_argument("--cell", type=int, default=256, help="grid cell width in pixels for --images [256]")
    p.add_argument("--out", default="runs/compare", metavar="DIR", help="report folder [runs/compare]")
    p.add_argument("--grid", type=int, default=3, metavar="N", help="pairs shown in grid.png, 0 for none [3]")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda [auto]")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_compare)

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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("synth", help="make low-light pairs from normal-light photos",
                       description="Darken well-exposed photos with a physical model (exposure cut in "
                                   "linear light, shot and read noise, white-balance error, 8-bit "
                                   "quantisation, optional JPEG and lamps) into a low/ + high/ folder.")
    p.add_argument("--photos", required=True, metavar="DIR", help="folder of well-exposed photos")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (gets low/, high/, pairs.jsonl)")
    p.add_argument("--count", type=int, help="number of pairs [one per photo]")
    p.add_argument("--size", type=int, default=512, help="long side of the pairs, 0 keeps it [512]")
    p.add_argument("--seed", type=int, default=0, help="[0]")
    p.add_argument("--split", choices=["train", "test", "all"], default="train",
                   help="which photos: train skips the fixed held-out test photos [train]")
    p.add_argument("--color-cast", type=float, default=0.1,
                   help="max white-balance error (log gain of red and blue), 0 disables [0.1]")
    p.add_argument("--jpeg", type=float, default=0.0, metavar="P",
                   help="share of dark images saved as JPEG (quality 70-95, 4:2:0), as cameras do [0]")
    p.add_argument("--lights", type=float, default=0.0, metavar="P",
                   help="share of pairs given 1-8 lamps that saturate the dark image, as in night photos [0]")
    p.add_argument("--exposure", type=float, nargs=2, default=[0.02, 0.25], metavar=("LO", "HI"),
                   help="exposure range of the dark images, log-uniform; HI up to 1 (no cut) [0.02 0.25]")
    p.add_argument("--identity", type=float, default=0.0, metavar="P",
                   help="share of pairs whose input is the reference itself (a photo to leave alone) [0]")
    p.add_argument("--vary", type=float, default=0.0, metavar="P",
                   help="share of pairs whose exposure varies smoothly across the frame [0]")
    p.add_argument("--tint", type=float, default=0.0, metavar="P",
                   help="share of pairs lit by a coloured source, in the reference too [0]")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("export", help="export a model to ONNX",
                       description="Export the bundled model (or --weights/--model) to an ONNX file for "
                                   "ONNX Runtime or any other ONNX runtime; the file's metadata says how "
                                   "to feed it. Needs pip install 'lowlight[onnx]'.")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    _add_weights_flags(p)
    p.add_argument("--opset", type=int, help="ONNX opset version [the exporter's default]")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                   help="run the export with ONNX Runtime and compare with PyTorch [on]")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("benchmark", help="speed on this machine: latency, megapixels per second, per backend",
                       description="Time the bundled model (or --weights/--model) as `lowlight enhance` runs it: "
                                   "one 600x400 photo and one 12-megapixel photo (tiled automatically), for "
                                   "each backend and thread count. Prints a Markdown table (or --json).")
    _add_weights_flags(p)
    p.add_argument("--backends", nargs="+", choices=["torch", "onnx"], default=["torch", "onnx"],
                   help="[torch onnx]")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2], metavar="N", help="thread counts [1 2]")
    p.add_argument("--size", default="600x400", help="the small image, WIDTHxHEIGHT [600x400]")
    p.add_argument("--large", default="4000x3000", help="the large image, WIDTHxHEIGHT [4000x3000, 12 MP]")
    p.add_argument("--repeats", type=int, default=10, help="timed runs on the small image [10]")
    p.add_argument("--large-repeats", type=int, default=3, help="timed runs on the large image [3]")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_benchmark)

    p = sub.add_parser("models", help="list models: parameters and GMACs at 600x400")
    p.set_defaults(func=cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except LowlightError as exc:
        print(f"lowlight: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lowlight: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
