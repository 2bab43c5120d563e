"""What several commands share: the model/method flags and how they become an enhancer."""

from __future__ import annotations

import argparse

from ..errors import LowlightError

#: Exit codes: 0 all done, 1 some files of a batch failed (the rest were done), 2 nothing could start.
EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def add_quiet(p: argparse.ArgumentParser, what: str = "no progress bars") -> None:
    p.add_argument("-q", "--quiet", action="store_true", help=what)


WEIGHTS_HELP = ("a .safetensors file from `lowlight train`, an .onnx file from `lowlight export`, or a "
                "published model's own file with its --model (e.g. --model iat --weights best_Epoch_lol_v1.pth)")
MODEL_HELP = ("a registered model (`lowlight models`): one with bundled weights, or a published model (iat, sci, "
              "zero-dce, zero-dce++) with its --weights FILE [the bundled default]")


def add_weights_flags(p: argparse.ArgumentParser) -> None:
    """--weights and/or --model for commands that take a trained model only."""
    p.add_argument("--weights", metavar="FILE", help=WEIGHTS_HELP)
    p.add_argument("--model", metavar="NAME", help=MODEL_HELP)


def add_model_flags(p: argparse.ArgumentParser, backends: bool = True) -> None:
    """One of --weights, --model or --method (none: the bundled model), the device and backend."""
    from ..core.classical import METHODS

    g = p.add_argument_group("model or method (default: the bundled model)")
    g.add_argument("--weights", metavar="FILE", help=WEIGHTS_HELP)
    g.add_argument("--model", metavar="NAME", help=MODEL_HELP)
    g.add_argument("--method", choices=list(METHODS), metavar="NAME",
                   help=f"a classical method instead of a model: {', '.join(METHODS)}")
    g.add_argument("--method-arg", action="append", metavar="KEY=VALUE",
                   help="a parameter of --method, e.g. clip_limit=3 (repeatable; see docs/BASELINES.md)")
    g.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda [auto]")
    if backends:
        g.add_argument("--backend", choices=["torch", "onnx"],
                       help="run the model with PyTorch or ONNX Runtime (pip install 'lowlight[onnx]') "
                            "[torch; onnx for .onnx files]")
        g.add_argument("--threads", type=int, metavar="N", help="CPU threads [PyTorch's or ONNX Runtime's default]")


def enhancer_spec(args: argparse.Namespace) -> dict:
    """The flags that choose the model or method, as keywords of :func:`lowlight.core.enhancer.open_enhancer`."""
    from ..training.config import parse_assignments

    method_args = parse_assignments(args.method_arg or [], "--method-arg") if args.method_arg else None
    return dict(weights=args.weights, model=args.model, method=args.method, method_args=method_args,
                device=args.device, backend=getattr(args, "backend", None), threads=getattr(args, "threads", None))


def load_enhancer(args: argparse.Namespace):
    """The model or classical method the flags name; both offer ``process`` and ``__call__``."""
    from ..core.enhancer import open_enhancer

    return open_enhancer(**enhancer_spec(args))
