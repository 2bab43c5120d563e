"""Images per second of `lowlight enhance --engine ray` against the number of actors, beside the
local engine, on this machine (for docs/SCALE.md).

    python bench/scale.py [--photos ../shared/datasets/real-lowlight/DICM] [--copies 2] [--actors 1 2]

The folder's photos (DICM: 32 phone and camera JPEGs, 0.3-0.9 megapixels) are copied ``--copies``
times into a temporary folder; each engine enhances all of them with the bundled model into a
fresh output folder. "Steady" throughput counts from the first finished file to the last, so
Ray's start-up (the local cluster, the actors loading the model) is reported apart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(photos: Path, copies: int, folder: Path) -> int:
    files = sorted(p for p in photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"))
    for k in range(copies):
        for f in files:
            shutil.copy(f, folder / f"{k}-{f.name}")
    return len(files) * copies


def local(folder: Path, out: Path, threads: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lowlight", "enhance", str(folder), "-o", str(out), "-q",
                    "--threads", str(threads)], check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    return time.perf_counter() - start


def with_ray(folder: Path, out: Path, actors: int) -> tuple[float, float, int]:
    from lowlight.batch.ray_engine import enhance_dataset

    stamps: list[float] = []
    start = time.perf_counter()
    summary = enhance_dataset([str(folder)], str(out), actors=actors, batch_size=2,
                              on_result=lambda row: stamps.append(time.perf_counter()))
    total = time.perf_counter() - start
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return total, steady, len(summary.done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "datasets" / "real-lowlight" / "DICM")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from lowlight.research.benchmark import machine

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        n = prepare(args.photos, args.copies, folder)
        print(f"{n} photos from {args.photos}; {machine()}")
        print("| engine | workers | wall (s) | images/s, wall | images/s, steady |\n|---|---|---|---|---|")
        for threads in (1, 2):
            wall = local(folder, Path(tmp) / f"local-{threads}", threads)
            print(f"| local | 1 process, {threads} thread{'s' if threads > 1 else ''} | {wall:.1f} | "
                  f"{n / wall:.2f} | - |")
        for actors in args.actors:
            wall, steady, done = with_ray(folder, Path(tmp) / f"ray-{actors}", actors)
            assert done == n, f"{done} of {n} done"
            print(f"| ray | {actors} actor{'s' if actors > 1 else ''} | {wall:.1f} | {n / wall:.2f} | {steady:.2f} |")


if __name__ == "__main__":
    main()
