"""Copy a trained weights file into the package with constructor arguments that change how the
network computes but not its parameters (``coarse_curve``), checked by loading the result.

    python bench/ship_weights.py runs/curve-unet-2/best.safetensors src/lowlight/weights/curve-unet.safetensors \
        --set coarse_curve=true
"""

from __future__ import annotations

import argparse
import json

from lowlight.core.checkpoint import load_weights, read_metadata, save_weights
from lowlight.models import model_args as registry_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="a model argument to change")
    args = parser.parse_args()
    meta = read_metadata(args.source)
    net, _ = load_weights(args.source)
    model_args = dict(meta["model_args"])
    for item in args.set:
        key, value = item.split("=", 1)
        if key not in registry_args(meta["model"]):
            raise SystemExit(f"{meta['model']} has no argument {key!r}")
        model_args[key] = json.loads(value)
    save_weights(args.target, net, meta["model"], model_args, meta["preprocess"], meta["training"], meta["metrics"])
    load_weights(args.target)  # the same tensors fit the changed arguments
    print(f"wrote {args.target}: {meta['model']} {model_args}")


if __name__ == "__main__":
    main()
