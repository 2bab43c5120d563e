"""The peers' figures quoted in docs/PEERS.md and the README, from the repository root:

    python bench/peer_checks.py [--peers ../shared/peers]

Per peer: the largest difference from the authors' own outputs (tests/data/peers, made by
bench/peer_references.py), in 1/255; how many subnormal weights its published file holds; and the
bare network's time on one 640x480 photo (DICM 13, 2 threads) with those weights as published
and as lowlight loads them (flushed to zero).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from peer_references import WEIGHTS, inputs  # noqa: E402

from lowlight.core.enhancer import load_model  # noqa: E402
from lowlight.media.photo import read_photo  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peers", type=Path, default=ROOT.parent / "shared" / "peers")
    args = p.parse_args()
    torch.set_num_threads(2)
    photo = np.asarray(Image.open(ROOT.parent / "shared" / "datasets" / "real-lowlight" / "DICM" / "13.jpg")
                       .convert("RGB"))
    x = torch.from_numpy(photo.copy()).permute(2, 0, 1)[None].float() / 255
    tiny = torch.finfo(torch.float32).tiny
    print("| peer | max difference from the authors' code (1/255) | subnormal weights in the file "
          "| 640x480, as published (s) | as loaded (s) |\n|---|---|---|---|---|")
    for name, rel in WEIGHTS.items():
        model = load_model(name, weights=args.peers / rel, device="cpu")
        worst = 0.0
        for stem, image in inputs().items():
            ref = read_photo(ROOT / "tests" / "data" / "peers" / name / f"{stem}.png").rgb
            out = model.process(torch.from_numpy(image).permute(2, 0, 1)[None], tile=0)[0].permute(1, 2, 0).numpy()
            worst = max(worst, float(np.abs(out - ref).max()) * 255)
        raw = torch.load(args.peers / rel, map_location="cpu", weights_only=True)
        subnormal = sum(int(((v.abs() > 0) & (v.abs() < tiny)).sum()) for v in raw.values() if v.is_floating_point())
        times = []
        for state in ({k: v for k, v in raw.items() if k in model.net.state_dict()}, None):
            if state is not None:
                model.net.load_state_dict(state)  # the weights exactly as published
            else:
                model = load_model(name, weights=args.peers / rel, device="cpu")
            with torch.inference_mode():
                model.net(x)
                start = time.perf_counter()
                model.net(x)
                times.append(time.perf_counter() - start)
        print(f"| {name} | {worst:.4f} | {subnormal:,} | {times[0]:.2f} | {times[1]:.2f} |")


if __name__ == "__main__":
    main()
