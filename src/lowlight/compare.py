"""Side-by-side comparison of methods and models on the same pairs with the same metrics.

One table (Markdown and CSV: PSNR, SSIM, parameters, GMACs at 600x400, milliseconds per image)
and one image grid (input, each method, reference) per run.
"""

from __future__ import annotations

import csv
import io as _io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .data import Pair
from .evaluation import evaluate
from .inference import Enhancer
from .io import atomic_write, atomic_write_text, read_image

COLUMNS = ["method", "psnr", "ssim", "params", "gmacs", "ms_per_image"]


@dataclass
class Contender:
    """A labelled thing that enhances uint8 RGB images: a classical method or a loaded model."""

    label: str
    run: Callable[[np.ndarray], np.ndarray]


def _cost(run: Callable) -> tuple[int | None, float | None]:
    if isinstance(run, Enhancer):
        from .models import count_parameters, gmacs

        return count_parameters(run.net), gmacs(run.net, 400, 600)
    return None, None


def compare(contenders: list[Contender], pairs: list[Pair], progress: bool = True) -> list[dict]:
    """Evaluate every contender on ``pairs``; one row per contender with its mean scores and cost."""
    rows = []
    for c in contenders:
        mean = evaluate(c.run, pairs, progress=progress, timing=True).mean
        params, macs = _cost(c.run)
        rows.append({"method": c.label, "psnr": mean["psnr"], "ssim": mean["ssim"], "params": params,
                     "gmacs": macs, "ms_per_image": mean["ms"]})
    return rows


def _fmt(key: str, value) -> str:
    if value is None:
        return "-"
    if key == "params":
        return f"{value / 1e6:.2f}M" if value >= 100_000 else f"{value:,}"
    if key in ("psnr", "gmacs"):
        return f"{value:.2f}"
    if key == "ssim":
        return f"{value:.4f}"
    if key == "ms_per_image":
        return f"{value:.1f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (PSNR in dB, GMACs at 600x400)."""
    head = ["method", "PSNR (dB)", "SSIM", "params", "GMACs@600x400", "ms/image"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(k, r[k]) for k in COLUMNS) + " |")
    return "\n".join(lines)


def csv_text(rows: list[dict]) -> str:
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else r[k]) for k in COLUMNS})
    return buf.getvalue()


def image_grid(contenders: list[Contender], pairs: list[Pair], cell: int = 256):
    """A PIL image: one row per pair, columns input, each contender, reference; labels on top."""
    from PIL import Image, ImageDraw

    labels = ["input", *(c.label for c in contenders), "reference"]
    rows = []
    for pair in pairs:
        low, high = read_image(pair.low), read_image(pair.high)
        rows.append([low, *(c.run(low) for c in contenders), high])
    h0, w0 = rows[0][0].shape[:2]
    cw, ch = cell, max(1, round(cell * h0 / w0))
    label_h = 18
    grid = Image.new("RGB", (cw * len(labels), label_h + ch * len(rows)), "white")
    draw = ImageDraw.Draw(grid)
    for j, text in enumerate(labels):
        draw.text((j * cw + 4, 3), text[: cw // 7], fill="black")
    for i, images in enumerate(rows):
        for j, arr in enumerate(images):
            grid.paste(Image.fromarray(arr).resize((cw, ch), Image.LANCZOS), (j * cw, label_h + i * ch))
    return grid


def write_report(rows: list[dict], grid, out: Path) -> None:
    """``results.md``, ``results.csv`` and ``grid.png`` in ``out``, each written atomically."""
    out = Path(out)
    atomic_write_text(out / "results.md", markdown_table(rows) + "\n")
    atomic_write_text(out / "results.csv", csv_text(rows))
    atomic_write(out / "grid.png", lambda tmp: grid.save(tmp, format="PNG"))
