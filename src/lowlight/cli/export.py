"""``lowlight export --onnx FILE``: the bundled model (or any weights) as one ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LowlightError
from .common import add_weights_flags


def add_parsers(sub) -> None:
    p = sub.add_parser("export", help="export a model to ONNX",
                       description="Export the bundled model (or --weights/--model) to an ONNX file for "
                                   "ONNX Runtime or any other ONNX runtime; the file's metadata says how "
                                   "to feed it. Needs pip install 'lowlight[onnx]'.")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    add_weights_flags(p)
    p.add_argument("--opset", type=int, help="ONNX opset version [the exporter's default]")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                   help="run the export with ONNX Runtime and compare with PyTorch [on]")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.enhancer import load_model
    from ..core.onnx_backend import export_onnx

    target = Path(args.onnx)
    if target.suffix.lower() != ".onnx":
        raise LowlightError(f"--onnx expects a file name ending in .onnx, got {target}")
    source = args.weights or args.model
    if source and Path(source).suffix == ".onnx":
        raise LowlightError(f"{source} is already an ONNX file; pass the .safetensors weights to export")
    from ..models import get_entry, list_models

    if args.model in list_models() and get_entry(args.model).peer:
        raise LowlightError(f"{args.model} is a published model: lowlight exports its own models only "
                            "(the authors' repository is the place for theirs)")
    enhancer = load_model(args.model, device="cpu", weights=args.weights) if args.model and args.weights else \
        load_model(source, device="cpu")
    if target.resolve() == enhancer.source.resolve():
        raise LowlightError(f"refusing to overwrite the weights {target} with the export; choose another name")
    if target.exists() and not args.overwrite:
        raise LowlightError(f"{target} exists; pass --overwrite to replace it")
    data = export_onnx(enhancer.net, enhancer.metadata, enhancer.source, target, opset=args.opset)
    if args.check:
        import numpy as np
        import torch

        check = load_model(target)  # the file just written, as users will load it
        image = torch.rand(1, 3, 203, 301, generator=torch.Generator().manual_seed(0)) ** 2
        diff = (enhancer.process(image, tile=0) - check.process(image, tile=0)).abs().max().item()
        print(f"checked: ONNX Runtime vs PyTorch on a 301x203 image, max difference {diff * 255:.3f}/255")
        if not np.isfinite(diff) or diff > 1 / 255:
            raise LowlightError(f"the export differs from PyTorch by {diff * 255:.2f}/255 (more than 1/255)")
    print(f"wrote {target} ({len(data) / 1e6:.1f} MB, {enhancer.name}); run it with "
          f"`lowlight enhance IMAGE --weights {target}` or any ONNX runtime")
    return 0
