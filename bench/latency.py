"""CPU latency of each registered model's bare network on one 600x400 image, fp32 (for the whole
enhance path of one model, backends and thread counts, use `lowlight benchmark`).

    python bench/latency.py [--threads 2] [--repeats 10] [--models gain-unet sid-unet]

Weights are random (speed does not depend on them), arguments the registry defaults (those of the bundled weights); the input is channels_last, as inference uses.
"""

from __future__ import annotations

import argparse
import platform

import torch

from lowlight.research.benchmark import median_time
from lowlight.models import count_parameters, create_model, gmacs, list_models


def latency_ms(model: torch.nn.Module, height: int, width: int, repeats: int, warmup: int = 3) -> float:
    """Median wall time in ms of the bare network on a ``(1, 3, height, width)`` input."""
    x = torch.rand(1, 3, height, width).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        return median_time(lambda: model(x), repeats, warmup) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=[m for m in list_models() if m != "seed-unet"],
                        help="seed-unet is left out by default: about 10 s an image on 2 cores")
    parser.add_argument("--size", default="600x400", help="WIDTHxHEIGHT")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.split("x"))
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} threads, fp32, {w}x{h}, median of {args.repeats}")
    print("| model | params | GMACs | ms |\n|---|---|---|---|")
    for name in args.models:
        torch.manual_seed(0)
        net = create_model(name).eval().to(memory_format=torch.channels_last)  # registry defaults = what ships
        ms = latency_ms(net, h, w, args.repeats)
        print(f"| {name} | {count_parameters(net) / 1e6:.2f}M | {gmacs(net, h, w):.1f} | {ms:.0f} |")


if __name__ == "__main__":
    main()
