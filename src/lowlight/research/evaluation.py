"""Scoring a model against reference images at full resolution: PSNR and SSIM per image and mean.

The enhanced image is scored as a user gets it: clamped to [0, 1] and rounded to 8 bits. The
"GT-mean" variant (output rescaled to the reference's mean grey level) is computed only when
asked for and always carries a ``_gtmean`` suffix, never mixed with the plain numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..media.pairs import Pair, resize_pair
from ..core.contract import ImageEnhancer
from ..media.photo import read_image, save_image, to_tensor, to_uint8
from .metrics import gt_mean_scale, psnr, ssim
from ..progress import progress as progress_bar


@dataclass
class EvalResult:
    """Per-image rows and their means: keys ``psnr``, ``ssim`` (and ``*_gtmean``, ``loss`` when computed)."""

    images: list[dict] = field(default_factory=list)

    @property
    def mean(self) -> dict[str, float]:
        keys = [k for k in self.images[0] if k != "name"] if self.images else []
        return {k: float(np.mean([row[k] for row in self.images])) for k in keys}

    def to_dict(self) -> dict:
        return {**self.mean, "count": len(self.images), "images": self.images}


def score(output: np.ndarray, target: np.ndarray, gt_mean: bool = False) -> dict[str, float]:
    """PSNR/SSIM of two uint8 RGB images ``(H, W, 3)`` in float64 (plus the GT-mean pair if asked)."""
    out = to_tensor(output).double()
    ref = to_tensor(target).double()
    row = {"psnr": float(psnr(out, ref)), "ssim": float(ssim(out, ref))}
    if gt_mean:
        scaled = gt_mean_scale(out, ref)
        row["psnr_gtmean"] = float(psnr(scaled, ref))
        row["ssim_gtmean"] = float(ssim(scaled, ref))
    return row


def as_camera_jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (uint8 RGB) through a JPEG at ``quality`` with 4:2:0 chroma, as phones save photos."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=int(quality), subsampling=2)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def evaluate(model: ImageEnhancer | Callable[[np.ndarray], np.ndarray], pairs: Iterable[Pair],
             gt_mean: bool = False, loss: Callable | None = None, save_dir: Path | None = None,
             progress: bool = False, timing: bool = False, resize: tuple[int, int] | None = None,
             jpeg: int | None = None) -> EvalResult:
    """Run ``model`` on each pair's dark image at full resolution and score it against the reference.

    ``loss`` (an :class:`ImageEnhancer` only) also records the training criterion on the output
    before rounding to 8 bits, which is what validation during training selects on. ``timing`` records ``ms``, the wall time
    of the enhancement call alone (no file I/O). ``save_dir`` keeps the enhanced images.
    ``resize`` (``(width, height)``) is the report's protocol, not full resolution: both images
    are shrunk (:func:`~lowlight.media.pairs.resize_pair`) before enhancing and scoring.
    ``jpeg`` (a quality, 1-100) saves each dark input as a phone does (JPEG, 4:2:0 chroma) and
    enhances the decoded file: what a model does with camera JPEGs' blocks and quantised shadows.
    """
    pairs = list(pairs)
    result = EvalResult()
    for pair in progress_bar(pairs, progress, desc="evaluate", unit="img", leave=False):
        low, high = read_image(pair.low), read_image(pair.high)
        if resize:
            low, high = resize_pair(low, high, tuple(resize))
        if jpeg:
            low = as_camera_jpeg(low, jpeg)
        row: dict = {"name": pair.name}
        start = time.perf_counter()
        if loss is not None:
            enhanced = model.process(to_tensor(low))
            row["loss"] = float(loss(enhanced, to_tensor(high)))
            out = to_uint8(enhanced)
        else:
            out = model(low)
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        row.update(score(out, high, gt_mean))
        if timing:
            row["ms"] = elapsed_ms
        if save_dir is not None:
            save_image(out, Path(save_dir) / f"{pair.name}.png")
        result.images.append(row)
    return result


def format_table(result: EvalResult) -> str:
    """A plain-text table of the per-image rows and the mean."""
    if not result.images:
        return "(no images)"
    keys = [k for k in result.images[0] if k != "name"]
    width = max(8, *(len(r["name"]) for r in result.images))
    head = f"{'image':<{width}}  " + "  ".join(f"{k:>12}" for k in keys)
    lines = [head, "-" * len(head)]
    for r in result.images:
        lines.append(f"{r['name']:<{width}}  " + "  ".join(f"{r[k]:>12.4f}" for k in keys))
    lines.append("-" * len(head))
    mean = result.mean
    lines.append(f"{'mean':<{width}}  " + "  ".join(f"{mean[k]:>12.4f}" for k in keys))
    return "\n".join(lines)
