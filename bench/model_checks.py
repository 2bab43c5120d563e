"""The do-no-harm checks of the model card, for any model: flat in flat out, neutral grey, and the
held-out well-exposed photos at their own exposure.

    python bench/model_checks.py [--weights NAME=FILE ...] [--photos ../shared/datasets/photos]

- Flat and smooth: uniform images at 8 brightness levels in 3 tints (the output's spread,
  borders included) and horizontal and vertical gradients, 256x192 (distance from a smooth copy,
  :func:`lowlight.research.metrics.smooth_residual`), in 1/255; for neutral greys the largest spread
  between channels (1/255).
- Do no harm: the 8 held-out photos of the fixed split (never trained on), long side 512, at
  their own exposure: PSNR of the output against the photo itself and the change of mean luma.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.research.evaluation import score
from lowlight.core.enhancer import enhance, load_model
from lowlight.research.metrics import mean_luma, smooth_residual
from lowlight.training.synth import select_photos

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
TINTS = {"grey": (1.0, 1.0, 1.0), "warm": (1.0, 0.8, 0.55), "blue": (0.7, 0.85, 1.0)}


def flat_inputs():
    for level in LEVELS:
        for tint, rgb in TINTS.items():
            yield f"flat {level:g} {tint}", np.full((192, 256, 3), level) * np.array(rgb), tint == "grey"
    ramp = np.linspace(0.02, 0.6, 256)
    yield "ramp across", np.tile(ramp[None, :, None], (192, 1, 3)), True
    yield "ramp down", np.tile(np.linspace(0.02, 0.6, 192)[:, None, None], (1, 256, 3)), True


def flat_checks(model) -> dict:
    worst_smooth, worst_grey, where = 0.0, 0.0, ""
    for name, image, neutral in flat_inputs():
        u8 = np.round(image * 255).astype(np.uint8)
        out = enhance(u8, model).astype(np.float64)
        # flat in: any spread at all (borders included) is a pattern or a bend; a ramp: texture
        s = float(np.ptp(out, axis=(0, 1)).max()) if name.startswith("flat") else smooth_residual(out)
        if s > worst_smooth:
            worst_smooth, where = s, name
        if neutral:
            worst_grey = max(worst_grey, float((out.max(-1) - out.min(-1)).max()))
    return {"smooth_worst": worst_smooth, "smooth_where": where, "grey_spread_worst": worst_grey}


def harm_checks(model, photos: Path) -> dict:
    psnrs, dlumas, rows = [], [], []
    for path in select_photos(photos, "test"):
        im = Image.open(path).convert("RGB")
        im.thumbnail((512, 512), Image.LANCZOS)
        a = np.asarray(im)
        out = enhance(a, model)
        psnrs.append(score(out, a)["psnr"])
        dlumas.append(mean_luma(out) - mean_luma(a))
        rows.append(f"{path.stem} {psnrs[-1]:.1f} dB ({dlumas[-1]:+.3f})")
    return {"psnr_median": float(np.median(psnrs)), "psnr_worst": float(min(psnrs)),
            "luma_change_median": float(np.median(dlumas)), "luma_change_most_darker": float(min(dlumas)),
            "photos": len(psnrs), "per_photo": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", nargs="*", default=["curve-unet"], help="NAME or NAME=FILE [curve-unet]")
    ap.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "datasets" / "photos")
    args = ap.parse_args()
    print("| model | flat/smooth: worst distance from a smooth fit (1/255) | grey: worst channel spread (1/255) "
          "| held-out photos at own exposure: PSNR median / worst (dB) | mean luma change median / most darker |")
    print("|---|---|---|---|---|")
    per_photo = []
    for spec in args.weights:
        name, _, path = spec.partition("=")
        model = load_model(path or name, device="cpu")
        f = flat_checks(model)
        h = harm_checks(model, args.photos)
        print(f"| {name} | {f['smooth_worst']:.2f} ({f['smooth_where']}) | {f['grey_spread_worst']:.2f} | "
              f"{h['psnr_median']:.2f} / {h['psnr_worst']:.2f} | {h['luma_change_median']:+.3f} / "
              f"{h['luma_change_most_darker']:+.3f} |", flush=True)
        per_photo.append(f"{name}, per held-out photo (PSNR against itself, mean luma change): "
                         + ", ".join(h["per_photo"]))
    print("\n" + "\n".join(per_photo))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
