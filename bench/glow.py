"""Glow around lights, measured: `lowlight.research.metrics.glow` on dark frames with bright lamps.

    python bench/glow.py [--weights curve-unet IAT=iat:FILE ...] [--methods gamma] \
        [--sets runs/synth-photos-test-lamps/low ../shared/datasets/real-lowlight]

For each set (a folder of photos, subfolders too) and each contender, the glow of every dark
photo (input mean luma under 0.2) that has lamps (input luma >= 0.9, at least 16 pixels) and
enough dark pixels near them and far from them: how much more, in 1/255 of output luma, the dark
pixels near a light (within 6% of the photo's longer side) are lifted than dark pixels of the
same input level far from every light (three times as far). Prints one
Markdown table: median and worst over those photos, and how many photos counted. Models run
through `lowlight.enhance`, the product's path.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

from lowlight.media.files import list_images
from lowlight.media.photo import read_image
from lowlight.research.metrics import glow, mean_luma
from real_photos import contenders


def photos(folder: Path) -> list[Path]:
    return [p for d in [folder, *sorted(q for q in folder.rglob("*") if q.is_dir())] for p in list_images(d)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="*", default=["curve-unet"], metavar="NAME[=MODEL:FILE]")
    parser.add_argument("--methods", nargs="*", default=["gamma"])
    parser.add_argument("--sets", nargs="+", type=Path,
                        default=[Path("runs/synth-photos-test-lamps/low"), Path("../shared/datasets/real-lowlight")])
    args = parser.parse_args()
    for s in args.sets:
        if not s.is_dir():
            parser.error(f"{s} is not a folder (the lamps set comes from bash bench/model_card.sh data)")
    who = contenders(args.methods, args.weights)
    inputs = {s: [(p, img) for p in photos(s) if mean_luma(img := read_image(p, orient=True)) < 0.2]
              for s in args.sets}
    print("| set | " + " | ".join(who) + " |")
    print("|---|" + "---|" * len(who))
    for s, images in inputs.items():
        cells, counted = [], 0
        for name, run in who.items():
            values = [g for g in (glow(img, run(img)) for _, img in images) if g is not None]
            counted = len(values)
            cells.append(f"{statistics.median(values):.2f} / {max(values):.2f}" if values else "-")
        print(f"| {s} ({counted} of {len(images)} dark photos with lamps) | " + " | ".join(cells) + " |")
    print("\nglow, 1/255 of output luma: median / worst over the photos with lamps (0: no ring around lights)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
