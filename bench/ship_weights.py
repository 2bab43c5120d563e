"""Copy a trained weights file into the package with constructor arguments that change how the
network computes but not its parameters (``coarse_curve``), checked by loading the result.

    python bench/ship_weights.py runs/curve-unet-2/best.safetensors src/lowlight/weights/curve-unet.safetensors \
        --set coarse_curve=true

``--name`` files the weights under another registered name of the same architecture (a data
set's own checkpoint, such as the planned ``lol-v1``: a ``curve-unet`` trained on LOL-v1 alone),
whose registered defaults must then be the file's arguments.
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
    parser.add_argument("--name", help="the registered name to file the weights under [the file's own]")
    args = parser.parse_args()
    meta = read_metadata(args.source)
    net, _ = load_weights(args.source)
    model_args = dict(meta["model_args"])
    for item in args.set:
        key, value = item.split("=", 1)
        if key not in registry_args(meta["model"]):
            raise SystemExit(f"{meta['model']} has no argument {key!r}")
        model_args[key] = json.loads(value)
    name = args.name or meta["model"]
    def plain(d):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    if args.name and plain(registry_args(name)) != plain({**registry_args(name), **model_args}):
        raise SystemExit(f"{name}'s registered defaults differ from the file's arguments {model_args}")
    save_weights(args.target, net, name, model_args, meta["preprocess"], meta["training"], meta["metrics"])
    load_weights(args.target)  # the same tensors fit the changed arguments
    print(f"wrote {args.target}: {name} {model_args}")


if __name__ == "__main__":
    main()
