"""``lowlight evaluate`` (one model on pairs) and ``lowlight compare`` (many, one table and grid)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LowlightError
from .common import add_model_flags, add_quiet, load_enhancer


def _size(text: str) -> tuple[int, int]:
    from ..training.config import parse_size

    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; give WxH, e.g. 150x150") from None


def add_parsers(sub) -> None:
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
    p.add_argument("--resize", type=_size, metavar="WxH",
                   help="the report's protocol instead of full resolution: shrink both images to WxH "
                        "(e.g. 150x150, bilinear) before enhancing and scoring; labelled in the output")
    p.add_argument("--jpeg", type=int, metavar="Q",
                   help="save each dark input as a camera JPEG first (quality Q, 4:2:0 chroma, e.g. 85) and "
                        "enhance that: how a model copes with phone photos' blocks and quantised shadows")
    add_quiet(p, "no progress bar")
    add_model_flags(p)
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser("compare", help="compare methods and models: one table and one image grid",
                       description="Score classical methods and trained models on the same pairs at full "
                                   "resolution; writes results.md, results.csv and grid.png.")
    p.add_argument("--data", metavar="DIR", help="a dataset folder of pairs (any supported layout)")
    p.add_argument("--images", nargs="+", metavar="PATH",
                   help="photos without references (files, folders or globs): grid.png only, one row each")
    p.add_argument("--split", choices=["train", "test"], default="test", help="[test]")
    p.add_argument("--methods", nargs="+", metavar="NAME",
                   help="classical methods (default parameters) or registered models with bundled weights")
    p.add_argument("--weights", nargs="+", metavar="[LABEL=][MODEL:]FILE",
                   help="trained models (.safetensors), optionally labelled, e.g. sid=runs/sid/best.safetensors; "
                        "a published model with its own file, e.g. IAT=iat:best_Epoch_lol_v1.pth")
    p.add_argument("--gt-mean", action="store_true",
                   help="add GT-mean PSNR/SSIM columns (output scaled to the reference's mean; labelled apart)")
    p.add_argument("--cell", type=int, default=256, help="grid cell width in pixels for --images [256]")
    p.add_argument("--out", default="runs/compare", metavar="DIR", help="report folder [runs/compare]")
    p.add_argument("--grid", type=int, default=3, metavar="N", help="pairs shown in grid.png, 0 for none [3]")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda [auto]")
    add_quiet(p)
    p.set_defaults(func=run_compare)


def run_evaluate(args: argparse.Namespace) -> int:
    import json

    from ..media.pairs import find_pairs
    from ..research.evaluation import evaluate, format_table

    if args.jpeg is not None and not 1 <= args.jpeg <= 100:
        raise LowlightError(f"--jpeg takes a JPEG quality between 1 and 100, got {args.jpeg}")
    pairs = find_pairs(Path(args.data), args.split)
    enhancer = load_enhancer(args)
    result = evaluate(enhancer, pairs, gt_mean=args.gt_mean,
                      save_dir=Path(args.save) if args.save else None, progress=not args.quiet, resize=args.resize,
                      jpeg=args.jpeg)
    protocol = f"shrunk to {args.resize[0]}x{args.resize[1]} (the report's protocol)" if args.resize else \
        "full resolution"
    if args.jpeg:
        protocol += f", inputs saved as JPEG quality {args.jpeg} (4:2:0) first"
    if args.json:
        print(json.dumps({"data": str(args.data), "model": enhancer.name, "protocol": protocol, **result.to_dict()},
                         indent=2))
    else:
        print(format_table(result))
        print(f"protocol: {protocol}")
        if args.gt_mean:
            print("*_gtmean: output rescaled to the reference's mean grey level first (not comparable "
                  "with plain PSNR/SSIM)")
    return 0


def _contender(name: str, device: str):
    """A classical method by name, or a registered model's bundled weights."""
    from ..core.classical import METHODS, make_method
    from ..core.enhancer import load_model, pretrained_models

    if name in METHODS:
        return make_method(name)
    if name in pretrained_models():
        return load_model(name, device=device)
    raise LowlightError(f"unknown method {name!r}; choose a classical method ({', '.join(METHODS)}) or a "
                        f"model with bundled weights ({', '.join(pretrained_models()) or 'none'})")


def run_compare(args: argparse.Namespace) -> int:
    from ..batch.plan import collect_inputs
    from ..research.compare import Contender, compare, image_grid, markdown_table, write_report
    from ..media.pairs import find_pairs
    from ..core.enhancer import load_model

    if not args.data and not args.images:
        raise LowlightError("nothing to compare on: pass --data DIR (pairs, scored) and/or --images FILE... "
                            "(photos without references, grid only)")
    contenders = [Contender(name, _contender(name, args.device)) for name in args.methods or []]
    from ..models import list_models

    for w in args.weights or []:
        label, _, file = w.rpartition("=")
        model, sep, rest = file.partition(":")
        model, file = (model, rest) if sep and model in list_models() else (None, file)
        path = Path(file)
        label = label or (model or (f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem))
        contenders.append(Contender(label, load_model(model, device=args.device, weights=path) if model else
                                    load_model(path, device=args.device)))
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
        photos = [f for f, _ in collect_inputs(args.images)]
        grid = image_grid(contenders, photos, cell=args.cell)
    write_report(rows, grid, out)
    if rows:
        print(markdown_table(rows))
        print(f"\n{len(pairs)} pairs from {args.data}, full resolution; wrote {out}/results.md, results.csv"
              + (", grid.png" if grid else ""))
    else:
        print(f"wrote {out}/grid.png ({len(photos)} photos)")
    return 0
