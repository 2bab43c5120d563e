"""Fuzz the decoding and enhance path with Atheris for a bounded time.

    pip install atheris && python bench/fuzz.py [--seconds 120] [--out runs/fuzz]

Inputs are mutations of small valid PNG, JPEG, WebP, TIFF, BMP and GIF files. Each goes
through what `lowlight enhance` does with a file: read_photo, enhance with a tiny curve-unet,
write_photo as PNG. Allowed outcomes: a result, or a LowlightError (the one-line message users
see). Anything else is a finding: the input is saved under OUT/crashes/ and the run stops.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 120, (9, 13, 3), dtype=np.uint8)
    out = []
    for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 80}), ("WEBP", {"lossless": True}), ("TIFF", {}),
                    ("BMP", {}), ("GIF", {})):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format=fmt, **kw)
        out.append(buf.getvalue())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=Path("runs/fuzz"))
    args, rest = ap.parse_known_args()
    import atheris

    with atheris.instrument_imports():
        import lowlight
        from lowlight.errors import LowlightError
        from lowlight.core.enhancer import Enhancer
        from lowlight.models import create_model
        from lowlight.media.photo import read_photo, write_photo

    import torch

    torch.manual_seed(0)
    model = Enhancer(create_model("curve-unet", width=4, thumb=8).eval(), "curve-unet")
    corpus = args.out / "corpus"
    crashes = args.out / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(seeds()):
        (corpus / f"seed-{i}").write_bytes(data)
    work = Path(tempfile.mkdtemp(prefix="lowlight-fuzz-"))
    deadline = time.monotonic() + args.seconds
    counts = {"ok": 0, "refused": 0}

    def one(data: bytes) -> None:
        if time.monotonic() > deadline:
            print(f"fuzz: {counts['ok']} enhanced, {counts['refused']} refused with a LowlightError, "
                  "no other outcome", flush=True)
            os._exit(0)  # libFuzzer treats a normal exit from inside the target as a finding
        src = work / "input"
        src.write_bytes(data)
        try:
            photo = read_photo(src, max_pixels=4_000_000)
            out = lowlight.core.enhancer.enhance_photo(model, photo, lowlight.core.enhancer.EnhanceOptions(tile=0))
            write_photo(out, work / "out.png")
            counts["ok"] += 1
        except LowlightError:
            counts["refused"] += 1
        except Exception:
            (crashes / f"crash-{int(time.time() * 1000)}").write_bytes(data)
            raise

    atheris.Setup([sys.argv[0], str(corpus), "-rss_limit_mb=4096", f"-artifact_prefix={crashes}/", *rest], one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
