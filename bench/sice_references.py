"""Pick the well-exposed SICE frames of Zero-DCE++'s training data as references for `lowlight synth`.

    python bench/sice_references.py GIT_DIR data/sice-refs
    python bench/sice_references.py GIT_DIR data/sice-lowkey --mean-luma 0.25 0.35 --max-dark 0.15

GIT_DIR: the git directory the search tool's `fetch github:Li-Chongyi/Zero-DCE_extension`
answers with. Its `Zero-DCE++/data/train_data/` holds 2,002 512x512 JPEG frames of SICE
multi-exposure sequences (research use), under- to over-exposed. The rule, on Rec. 601 luma in
[0, 1]: mean luma in [0.35, 0.65], at most 1% of pixels with a channel at 250 or above (no blown
sky) and at most 5% with luma under 0.05 (no crushed shadows). The chosen files are copied
unchanged and listed, with their statistics, in OUT/selection.tsv. ``--mean-luma`` and
``--max-dark`` change the rule, e.g. for low-key frames that should be left as they are.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.color import luma

FOLDER = "Zero-DCE++/data/train_data/"
MEAN_LUMA = (0.35, 0.65)
MAX_CLIPPED = 0.01
MAX_DARK = 0.05


def frame_stats(data: bytes) -> tuple[float, float, float]:
    """Mean luma, share of clipped pixels, share of dark pixels of one JPEG."""
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255.0
    y = luma(rgb)
    return float(y.mean()), float((rgb.max(-1) >= 250 / 255).mean()), float((y < 0.05).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("git_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--mean-luma", type=float, nargs=2, default=MEAN_LUMA, metavar=("LO", "HI"),
                    help=f"mean luma range [{MEAN_LUMA[0]} {MEAN_LUMA[1]}]")
    ap.add_argument("--max-dark", type=float, default=MAX_DARK,
                    help=f"largest share of pixels with luma under 0.05 [{MAX_DARK}]")
    args = ap.parse_args()
    lo, hi = args.mean_luma
    git = ["git", "--git-dir", str(args.git_dir)]
    names = subprocess.run(git + ["ls-tree", "--name-only", "HEAD", FOLDER], capture_output=True,
                           text=True, check=True).stdout.split()
    if not names:
        sys.exit(f"no {FOLDER} in {args.git_dir}; pass the git directory of Li-Chongyi/Zero-DCE_extension")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in sorted(names, key=lambda n: int(Path(n).stem)):
        data = subprocess.run(git + ["show", f"HEAD:{name}"], capture_output=True, check=True).stdout
        mean, clipped, dark = frame_stats(data)
        if lo <= mean <= hi and clipped <= MAX_CLIPPED and dark <= args.max_dark:
            target = args.out / f"sice-{Path(name).name}"
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
            rows.append(f"{target.name}\t{mean:.4f}\t{clipped:.4f}\t{dark:.4f}\n")
    (args.out / "selection.tsv").write_text("file\tmean_luma\tclipped\tdark\n" + "".join(rows))
    print(f"{len(rows)} of {len(names)} frames chosen into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
