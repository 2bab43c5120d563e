"""Paired low/normal-light datasets on disk: layout detection and pairing by file stem.

Layouts understood, detected from the root path given:

* any ``low/`` + ``high/`` folders (LOL-v1's ``our485`` and ``eval15`` are such folders);
* ``input/`` + ``target/`` (BasicSR-style, e.g. Retinexformer's ``LOLv1/{Train,Test}``);
* ``Low/`` + ``Normal/`` (LOL-v2, whose files are ``lowNNNNN.png`` / ``normalNNNNN.png``);
* a root holding a training and a test part: LOL-v1 (``our485``, ``eval15``), or ``Train``/``Test``;
* a LOL-v2 root holding ``Real_captured`` or ``Synthetic``.

Files pair by stem (``12.png`` with ``12.webp``; ``low00012`` with ``normal00012``) across every
format Pillow reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LowlightError
from .files import image_size, list_images

#: Leaf folder pairs (low-light, normal-light), lower-case names.
LEAF_LAYOUTS = (("low", "high", "low/ + high/"),
                ("input", "target", "input/ + target/"),
                ("low", "normal", "LOL-v2 Low/ + Normal/"))
#: Folders holding a (train, test) split, lower-case names.
SPLIT_LAYOUTS = (("our485", "eval15", "LOL-v1"), ("train", "test", "Train/Test"))
LOLV2_SUBSETS = ("real_captured", "synthetic")
SPLITS = ("train", "test")

_PREFIX = re.compile(r"^(low|normal|high)[_-]?(?=\d)", re.IGNORECASE)


@dataclass(frozen=True)
class Pair:
    """One training or test example: the dark image, its reference, and a name for reports."""

    low: Path
    high: Path
    name: str


def _children(root: Path) -> dict[str, Path]:
    return {p.name.lower(): p for p in root.iterdir() if p.is_dir()}


def detect_layout(root: Path, split: str = "train") -> tuple[Path, Path, str]:
    """Find the ``(low_dir, high_dir, description)`` under ``root`` for ``split`` ("train" or "test")."""
    root = Path(root)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not root.exists():
        raise LowlightError(f"dataset folder not found: {root}; pass the folder holding the image pairs")
    if not root.is_dir():
        raise LowlightError(f"dataset path is not a folder: {root}")
    kids = _children(root)
    for low, high, desc in LEAF_LAYOUTS:
        if low in kids and high in kids:
            return kids[low], kids[high], desc
    for train, test, desc in SPLIT_LAYOUTS:
        if train in kids and test in kids:
            part = kids[train if split == "train" else test]
            low, high, leaf = detect_layout(part, split)
            return low, high, f"{desc} {part.name} ({leaf})"
    subsets = [kids[s] for s in LOLV2_SUBSETS if s in kids]
    if len(subsets) == 1:
        low, high, leaf = detect_layout(subsets[0], split)
        return low, high, f"LOL-v2 {subsets[0].name}: {leaf}"
    if len(subsets) > 1:
        raise LowlightError(f"{root} holds several LOL-v2 subsets ({', '.join(p.name for p in subsets)}); "
                            "pass one of them, e.g. --data " + str(subsets[0]))
    raise LowlightError(
        f"no image pairs found under {root}: expected low/ + high/, input/ + target/, Low/ + Normal/, "
        "or a dataset root such as LOL-v1 (our485/, eval15/), Train/ + Test/, or LOL-v2")


def pair_key(stem: str) -> str:
    """The name two files of a pair share: the stem, less a ``low``/``normal``/``high`` prefix before digits."""
    return _PREFIX.sub("", stem)


def find_pairs(root: Path, split: str = "train", check_sizes: bool = True) -> list[Pair]:
    """All pairs of a dataset, sorted by name, with clear errors for anything that does not pair up."""
    low_dir, high_dir, _ = detect_layout(root, split)
    lows = {pair_key(p.stem): p for p in list_images(low_dir)}
    highs = {pair_key(p.stem): p for p in list_images(high_dir)}
    if not lows:
        raise LowlightError(f"no images in {low_dir}; expected PNG, JPEG, WebP, BMP or TIFF files")
    only_low = sorted(set(lows) - set(highs))
    only_high = sorted(set(highs) - set(lows))
    if only_low or only_high:
        parts = []
        if only_low:
            parts.append(f"{len(only_low)} in {low_dir.name}/ without a match (e.g. {', '.join(only_low[:3])})")
        if only_high:
            parts.append(f"{len(only_high)} in {high_dir.name}/ without a match (e.g. {', '.join(only_high[:3])})")
        raise LowlightError(f"unmatched images under {low_dir.parent}: {'; '.join(parts)}; "
                            "pairs must share a file name stem")
    pairs = [Pair(lows[k], highs[k], k) for k in sorted(lows, key=_natural)]
    if check_sizes:
        for p in pairs:
            a, b = image_size(p.low), image_size(p.high)
            if a != b:
                raise LowlightError(f"pair {p.name} has different sizes: {p.low} is {a[0]}x{a[1]}, "
                                    f"{p.high} is {b[0]}x{b[1]}; both images of a pair must match")
    return pairs


def split_pairs(pairs: list[Pair], fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Hold out ``fraction`` of the pairs (at least one) for validation, chosen by ``seed``."""
    if not 0.0 < fraction < 1.0:
        raise LowlightError(f"--val-fraction must be between 0 and 1, got {fraction}")
    if len(pairs) < 2:
        raise LowlightError("need at least two pairs to hold one out for validation; pass --val-data DIR")
    n_val = max(1, int(round(len(pairs) * fraction)))
    order = np.random.default_rng(seed).permutation(len(pairs))
    val_idx = set(order[:n_val].tolist())
    train = [p for i, p in enumerate(pairs) if i not in val_idx]
    val = [p for i, p in enumerate(pairs) if i in val_idx]
    return train, val


def _natural(key: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def resize_pair(low: np.ndarray, high: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Resize both images to ``(width, height)`` with Pillow's bilinear filter (the report's transform: its
    training pairs and its 150x150 test protocol)."""
    from PIL import Image

    def rs(a: np.ndarray) -> np.ndarray:
        return np.array(Image.fromarray(a).resize(size, Image.BILINEAR))
    return rs(low), rs(high)
