"""Tiled inference with the bundled model: seams and memory.

    python bench/tiling.py [--tile 1536] [--overlap 256] [--skip-24mp]   (defaults: the product's)

1. Seams: a real dark photo (samples/dark/lime-8.png) upscaled to about 2 megapixels is enhanced
   whole and in tiles; prints the largest difference anywhere, in 1/255 steps (target: <= 1).
2. Memory: a 24-megapixel JPEG goes through ``lowlight enhance`` in a fresh process (automatic
   tiling); prints its peak resident memory (target: < 2 GB) and wall time.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lowlight import enhance, load_model
from lowlight.core.tiling import DEFAULT_OVERLAP, DEFAULT_TILE

ROOT = Path(__file__).resolve().parent.parent


def seams(tile: int, overlap: int) -> float:
    photo = Image.open(ROOT / "samples/dark/lime-8.png").convert("RGB")
    scale = (2_000_000 / (photo.width * photo.height)) ** 0.5
    big = np.asarray(photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.BICUBIC))
    image = big.astype(np.float32) / 255.0
    model = load_model(device="cpu")
    whole = enhance(image, model, tile=0)
    tiled = enhance(image, model, tile=tile, overlap=overlap)
    print(f"seams: {big.shape[1]}x{big.shape[0]} ({big.shape[0] * big.shape[1] / 1e6:.1f} MP), tile {tile}, "
          f"overlap {overlap}: max |tiled - whole| = {np.abs(tiled - whole).max() * 255:.3f} / 255")
    return float(np.abs(tiled - whole).max() * 255)


def memory_24mp() -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.jpg"
        base = rng.integers(0, 40, (400, 600, 3), dtype=np.uint8)
        Image.fromarray(base).resize((6000, 4000), Image.BILINEAR).save(src, quality=90)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lowlight", "enhance", str(src), "-o", str(Path(tmp) / "out.jpg"),
                        "-q", "--device", "cpu"], check=True)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"24 MP (6000x4000 JPEG) through `lowlight enhance`: peak RSS {peak_mb:.0f} MB, {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE)
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP)
    parser.add_argument("--skip-24mp", action="store_true")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    seams(args.tile, args.overlap)
    if not args.skip_24mp:
        memory_24mp()


if __name__ == "__main__":
    main()
