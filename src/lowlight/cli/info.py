"""``lowlight benchmark`` (speed on this machine) and ``lowlight models`` (what is registered)."""

from __future__ import annotations

import argparse
import sys

from ..errors import LowlightError
from .common import add_quiet, add_weights_flags


def add_parsers(sub) -> None:
    p = sub.add_parser("benchmark", help="speed on this machine: latency, megapixels per second, per backend",
                       description="Time the bundled model (or --weights/--model) as `lowlight enhance` runs it: "
                                   "one 600x400 photo and one 12-megapixel photo (tiled automatically), for "
                                   "each backend, thread count and scene (a dark frame, a night with lamps). "
                                   "Prints a Markdown table (or --json).")
    add_weights_flags(p)
    p.add_argument("--backends", nargs="+", choices=["torch", "onnx"], default=["torch", "onnx"],
                   help="[torch onnx]")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2], metavar="N", help="thread counts [1 2]")
    p.add_argument("--size", default="600x400", help="the small image, WIDTHxHEIGHT [600x400]")
    p.add_argument("--large", default="4000x3000", help="the large image, WIDTHxHEIGHT [4000x3000, 12 MP]")
    p.add_argument("--scenes", nargs="+", choices=["dark", "night"], default=["dark", "night"],
                   help="synthetic images to time: dark (under-exposed as a whole), night (dark with lamps, "
                        "where the default model's very-dark stage runs) [dark night]")
    p.add_argument("--repeats", type=int, default=10, help="timed runs on the small image [10]")
    p.add_argument("--large-repeats", type=int, default=3, help="timed runs on the large image [3]")
    p.add_argument("--video", nargs="*", metavar="WxH", default=["640x360", "1280x720"],
                   help="also time video end to end (decode, enhance, encode; needs lowlight[video]) at these "
                        "sizes, 48 frames each; --video with no size skips it [640x360 1280x720]")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_quiet(p, "no progress messages")
    p.set_defaults(func=run_benchmark)

    p = sub.add_parser("models", help="list models: parameters and GMACs at 600x400")
    p.set_defaults(func=run_models)


def run_benchmark(args: argparse.Namespace) -> int:
    import json

    from ..research.benchmark import as_dicts, machine, markdown_table, run_benchmark, video_fps
    from ..training.config import parse_size
    from ..core.enhancer import open_enhancer
    from ..models import count_parameters, gmacs

    try:
        small, large = parse_size(args.size), parse_size(args.large)
    except ValueError:
        raise LowlightError(f"sizes are WIDTHxHEIGHT, e.g. 600x400; got {args.size} and {args.large}") from None
    if any(n < 1 for n in args.threads):
        raise LowlightError("--threads takes positive counts, e.g. --threads 1 2")
    enhancer = open_enhancer(weights=args.weights, model=args.model, device="cpu", backend="torch")
    source = enhancer
    params, macs = count_parameters(enhancer.net), gmacs(enhancer.net, small[1], small[0])
    header = (f"{enhancer.name}: {params / 1e6:.2f}M parameters, {macs:.2f} GMACs at {small[0]}x{small[1]}; "
              f"{machine()}; fp32, median of {args.repeats} ({args.large_repeats} at {large[0]}x{large[1]})")
    if not args.quiet:
        print(header, file=sys.stderr if args.json else sys.stdout)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    rows = run_benchmark(source, args.backends, args.threads, small, large, args.repeats, args.large_repeats, log,
                         scenes=tuple(dict.fromkeys(args.scenes)))
    videos = []
    if args.video:
        try:
            import av  # noqa: F401
        except ImportError:
            log("video: skipped (pip install 'lowlight[video]' to time it)")
        else:
            try:
                sizes = [parse_size(v) for v in args.video]
            except ValueError:
                raise LowlightError(f"--video sizes are WIDTHxHEIGHT, e.g. 640x360; got {' '.join(args.video)}") from None
            videos = video_fps(source, sizes, threads=max(args.threads), log=log)
    if args.json:
        print(json.dumps({"model": enhancer.name, "parameters": params, "gmacs": macs, "machine": machine(),
                          "small": list(small), "large": list(large), "rows": as_dicts(rows), "video": videos},
                         indent=2))
    else:
        print(markdown_table(rows, small))
        if videos:
            print(f"\n| video (torch, {videos[0]['threads']} threads, decode + enhance + H.264) | frames | fps |\n"
                  "|---|---|---|")
            for v in videos:
                print(f"| {v['width']}x{v['height']} | {v['frames']} | {v['fps']:.1f} |")
    return 0


def run_models(args: argparse.Namespace) -> int:
    import torch

    from ..core.enhancer import DEFAULT_MODEL, pretrained_models
    from ..models import count_parameters, create_model, get_entry, gmacs, list_models

    shipped = set(pretrained_models())
    print(f"{'name':<12} {'params':>10} {'GMACs@600x400':>14}  {'weights':<18} description")
    peers = []
    for name in list_models():
        with torch.device("meta"):  # a registry entry's defaults are its bundled weights' arguments
            net = create_model(name)
        entry = get_entry(name)
        weights = ("bundled, default" if name == DEFAULT_MODEL else "bundled") if name in shipped else \
            "yours: --weights" if entry.peer else "-"
        print(f"{name:<12} {count_parameters(net) / 1e6:>9.2f}M {gmacs(net, 400, 600):>14.1f}  {weights:<18} "
              f"{entry.description}")
        if entry.peer:
            peers.append((name, entry.expects))
    if peers:
        print("\npublished models (peers) run with the authors' own weights file, never bundled:")
        for name, expects in peers:
            print(f"  --model {name} --weights FILE   FILE: {expects}")
    return 0
