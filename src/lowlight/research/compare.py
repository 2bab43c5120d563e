"""Side-by-side comparison of methods and models on the same pairs with the same metrics.

One table (Markdown and CSV: PSNR, SSIM, parameters, GMACs at 600x400, milliseconds per image,
and optionally GT-mean PSNR/SSIM in separate, labelled columns) and one image grid (input, each
method, reference) per run. Photos without references get the grid alone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..media.pairs import Pair
from .evaluation import evaluate
from ..media.files import atomic_write, atomic_write_text
from ..media.photo import read_image

COLUMNS = ["method", "psnr", "ssim", "params", "gmacs", "ms_per_image"]
GT_MEAN_COLUMNS = ["psnr_gtmean", "ssim_gtmean"]
HEADINGS = {"method": "method", "psnr": "PSNR (dB)", "ssim": "SSIM", "params": "params",
            "gmacs": "GMACs@600x400", "ms_per_image": "ms/image",
            "psnr_gtmean": "PSNR GT-mean (dB)", "ssim_gtmean": "SSIM GT-mean"}


@dataclass
class Contender:
    """A labelled thing that enhances uint8 RGB images: a classical method or a loaded model."""

    label: str
    run: Callable[[np.ndarray], np.ndarray]


def _cost(run: Callable) -> tuple[int | None, float | None]:
    """Parameters and GMACs at 600x400 of a contender that runs a PyTorch network (None otherwise)."""
    import torch

    net = getattr(run, "net", None)
    if not isinstance(net, torch.nn.Module):
        return None, None
    from ..models import count_parameters, gmacs

    return count_parameters(net), gmacs(net, 400, 600)


def compare(contenders: list[Contender], pairs: list[Pair], progress: bool = True,
            gt_mean: bool = False) -> list[dict]:
    """Evaluate every contender on ``pairs``; one row per contender with its mean scores and cost.

    ``gt_mean`` adds ``psnr_gtmean``/``ssim_gtmean``: scores after scaling the output to the
    reference's mean brightness, a common but optimistic protocol, kept in columns of their own.
    """
    rows = []
    for c in contenders:
        mean = evaluate(c.run, pairs, gt_mean=gt_mean, progress=progress, timing=True).mean
        params, macs = _cost(c.run)
        row = {"method": c.label, "psnr": mean["psnr"], "ssim": mean["ssim"], "params": params,
               "gmacs": macs, "ms_per_image": mean["ms"]}
        if gt_mean:
            row.update({k: mean[k] for k in GT_MEAN_COLUMNS})
        rows.append(row)
    return rows


def _columns(rows: list[dict]) -> list[str]:
    return COLUMNS + [k for k in GT_MEAN_COLUMNS if rows and k in rows[0]]


def _fmt(key: str, value) -> str:
    if value is None:
        return "-"
    if key == "params":
        return f"{value / 1e6:.2f}M" if value >= 100_000 else f"{value:,}"
    if key in ("psnr", "gmacs", "psnr_gtmean"):
        return f"{value:.2f}"
    if key in ("ssim", "ssim_gtmean"):
        return f"{value:.4f}"
    if key == "ms_per_image":
        return f"{value:.1f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (PSNR in dB, GMACs at 600x400)."""
    columns = _columns(rows)
    lines = ["| " + " | ".join(HEADINGS[k] for k in columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(k, r[k]) for k in columns) + " |")
    return "\n".join(lines)


def csv_text(rows: list[dict]) -> str:
    columns = _columns(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else r[k]) for k in columns})
    return buf.getvalue()


def image_grid(contenders: list[Contender], pairs: list[Pair | Path], cell: int = 256):
    """A PIL image: one row per pair, columns input, each contender, reference; labels on top.

    Plain image paths instead of pairs (real photos with no reference) drop the reference column.
    """
    from PIL import Image, ImageDraw

    paired = all(isinstance(p, Pair) for p in pairs)
    labels = ["input", *(c.label for c in contenders)] + (["reference"] if paired else [])
    rows = []
    for pair in pairs:
        low = read_image(pair.low if paired else Path(pair), orient=True)
        rows.append([low, *(c.run(low) for c in contenders)] + ([read_image(pair.high)] if paired else []))
    cw, label_h = cell, 18
    heights = [max(1, round(cell * images[0].shape[0] / images[0].shape[1])) for images in rows]
    grid = Image.new("RGB", (cw * len(labels), label_h + sum(heights)), "white")
    draw = ImageDraw.Draw(grid)
    for j, text in enumerate(labels):
        draw.text((j * cw + 4, 3), text[: cw // 7], fill="black")
    top = label_h
    for images, ch in zip(rows, heights):  # each row keeps its own aspect ratio
        for j, arr in enumerate(images):
            grid.paste(Image.fromarray(arr).resize((cw, ch), Image.LANCZOS), (j * cw, top))
        top += ch
    return grid


def write_report(rows: list[dict], grid, out: Path) -> None:
    """``results.md``, ``results.csv`` and ``grid.png`` in ``out``, each written atomically
    (no table files when there are no rows, no grid when ``grid`` is None)."""
    out = Path(out)
    if rows:
        atomic_write_text(out / "results.md", markdown_table(rows) + "\n")
        atomic_write_text(out / "results.csv", csv_text(rows))
    if grid is not None:
        atomic_write(out / "grid.png", lambda tmp: grid.save(tmp, format="PNG"))
