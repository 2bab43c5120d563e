"""Do no harm, measured: what each method does to the real photos of ../shared/datasets/real-lowlight/.

    python bench/real_photos.py [--methods gamma clahe lime] [--weights NAME=FILE|NAME=MODEL:FILE ...] [--out DIR]

For every photo (no references exist) and method, against the method's own input: mean luma in
and out, colour shift (largest change of a channel's share of R+G+B, percentage points, over
pixels neither dark nor clipped), added clipping (percentage points of the frame newly at 255),
and periodic-grid energy of the output and the input (1/255). Models run through
`lowlight.enhance`, the product's path. Writes per_image.csv, summary.md (median and worst per
group: "not dark" = input mean luma >= 0.25, "dark" = below 0.2) and one grid per folder.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.core.classical import make_method
from lowlight.core.enhancer import enhance, load_model
from lowlight.research.metrics import added_clipping, colour_shift, grid_energy, mean_luma

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "datasets" / "real-lowlight"
NOT_DARK, DARK = 0.25, 0.2


def contenders(methods: list[str], weights: list[str]) -> dict:
    out = {}
    from lowlight.models import list_models

    for spec in weights:  # NAME=FILE, NAME (a bundled model) or NAME=MODEL:FILE (a published model)
        name, _, path = spec.partition("=")
        arch, sep, file = path.partition(":")
        model = load_model(arch, weights=file) if sep and arch in list_models() else load_model(path or name)
        out[name] = lambda a, m=model: enhance(a, m)
    for name in methods:
        out[name] = make_method(name)
    return out


def measure(before: np.ndarray, after: np.ndarray) -> dict:
    return {"luma_in": mean_luma(before), "luma_out": mean_luma(after),
            "colour_shift": colour_shift(before, after), "added_clipping": added_clipping(before, after),
            "grid_out": grid_energy(after), "grid_in": grid_energy(before)}


def summary(rows: list[dict], names: list[str]) -> str:
    lines = ["| method | not dark: colour shift median / worst (pp) | not dark: added clipping median / worst (pp) "
             "| dark: output mean luma median | all: grid energy median / worst (1/255) | all: output mean luma median |",
             "|---|---|---|---|---|---|"]
    for name in names:
        mine = [r for r in rows if r["method"] == name]
        bright = [r for r in mine if r["luma_in"] >= NOT_DARK]
        dark = [r for r in mine if r["luma_in"] < DARK]

        def mw(rs, key):
            vals = [r[key] for r in rs]
            return f"{statistics.median(vals):.2f} / {max(vals):.2f}" if vals else "-"

        lines.append(f"| {name} | {mw(bright, 'colour_shift')} | {mw(bright, 'added_clipping')} | "
                     f"{statistics.median([r['luma_out'] for r in dark]):.3f} | {mw(mine, 'grid_out')} | "
                     f"{statistics.median([r['luma_out'] for r in mine]):.3f} |")
    ins = [r for r in rows if r["method"] == names[0]]
    lines.append(f"| (input) | - | - | {statistics.median([r['luma_in'] for r in ins if r['luma_in'] < DARK]):.3f} | "
                 f"{statistics.median([r['grid_in'] for r in ins]):.2f} / {max(r['grid_in'] for r in ins):.2f} | "
                 f"{statistics.median([r['luma_in'] for r in ins]):.3f} |")
    n_bright = sum(r["luma_in"] >= NOT_DARK for r in ins)
    n_dark = sum(r["luma_in"] < DARK for r in ins)
    return "\n".join(lines) + f"\n\n{len(ins)} photos: {n_bright} not dark (mean luma >= {NOT_DARK}), {n_dark} dark (< {DARK}).\n"


def grid(images: list[list[np.ndarray]], cell: int) -> Image.Image:
    rows = []
    for row in images:
        cells = []
        for a in row:
            im = Image.fromarray(a)
            im.thumbnail((cell, cell))
            canvas = Image.new("RGB", (cell, cell), (24, 24, 24))
            canvas.paste(im, ((cell - im.width) // 2, (cell - im.height) // 2))
            cells.append(np.asarray(canvas))
        rows.append(np.concatenate(cells, 1))
    return Image.fromarray(np.concatenate(rows, 0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, default=PHOTOS, help="folder of folders of photos [%(default)s]")
    ap.add_argument("--weights", nargs="*", default=["curve-unet"],
                    help="models as NAME or NAME=FILE.safetensors [curve-unet, the bundled default]")
    ap.add_argument("--methods", nargs="*", default=["gamma", "clahe", "lime"], help="classical methods")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "real-photos")
    ap.add_argument("--cell", type=int, default=160, help="grid thumbnail size [160]")
    ap.add_argument("--save", action="store_true", help="also write every output as PNG under OUT/images/")
    args = ap.parse_args()
    if not args.photos.is_dir():
        raise SystemExit(f"no photos at {args.photos}; pass --photos DIR (folders of real photos)")
    runs = contenders(args.methods, args.weights)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for folder in sorted(p for p in args.photos.iterdir() if p.is_dir()):
        files = sorted(folder.iterdir(), key=lambda p: (len(p.stem), p.stem))
        cells = []
        for path in files:
            before = np.asarray(Image.open(path).convert("RGB"))
            row = [before]
            for name, run in runs.items():
                after = run(before)
                row.append(after)
                rows.append({"folder": folder.name, "photo": path.name, "method": name, **measure(before, after)})
                if args.save:
                    target = args.out / "images" / name / folder.name / f"{path.stem}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(after).save(target)
            cells.append(row)
            print(folder.name, path.name, " ".join(f"{r['method']}:{r['luma_out']:.2f}/{r['colour_shift']:.1f}/"
                                                   f"{r['added_clipping']:.1f}" for r in rows[-len(runs):]), flush=True)
        grid(cells, args.cell).save(args.out / f"grid-{folder.name}.jpg", quality=90)
    with open(args.out / "per_image.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in r.items()} for r in rows)
    text = summary(rows, list(runs))
    (args.out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
