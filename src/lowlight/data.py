"""Paired low/normal-light datasets: layout detection, pairing by file stem, crops and augmentation.

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

from .color import apply_gamma
from .errors import LowlightError
from .files import image_size, list_images
from .photo import read_image

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


def random_crop_flip(low: np.ndarray, high: np.ndarray, crop: int | None, augment: bool,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, tuple[int, bool]]:
    """The same random ``crop``-square crop, flips and 90-degree rotation on both images ``(H, W, 3)``;
    also returns the ``(quarter turns, flip)`` drawn. Images smaller than the crop are mirror-padded first.
    """
    k, flip = 0, False
    if crop:
        h, w = low.shape[:2]
        if crop > h or crop > w:  # small images: mirror-pad up to the crop size
            pad = ((0, max(0, crop - h)), (0, max(0, crop - w)), (0, 0))
            low, high = np.pad(low, pad, mode="symmetric"), np.pad(high, pad, mode="symmetric")
            h, w = low.shape[:2]
        y = int(rng.integers(0, h - crop + 1))
        x = int(rng.integers(0, w - crop + 1))
        low, high = low[y:y + crop, x:x + crop], high[y:y + crop, x:x + crop]
    if augment:
        k = int(rng.integers(0, 4))
        flip = bool(rng.integers(0, 2))
        low, high = np.rot90(low, k), np.rot90(high, k)
        if flip:
            low, high = low[:, ::-1], high[:, ::-1]
    return np.ascontiguousarray(low), np.ascontiguousarray(high), (k, flip)


def resize_pair(low: np.ndarray, high: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Resize both images to ``(width, height)`` with Pillow's bilinear filter (the report's transform)."""
    from PIL import Image

    def rs(a: np.ndarray) -> np.ndarray:
        return np.array(Image.fromarray(a).resize(size, Image.BILINEAR))
    return rs(low), rs(high)


class PairedDataset:
    """A map-style dataset of ``(low, high)`` float tensors ``(3, H, W)`` in [0, 1].

    ``gamma`` brightens the dark input with the report's lookup table; ``resize`` (``(w, h)``)
    shrinks both images as the report did; ``crop`` and ``augment`` draw a random square and a
    flip/rotation per sample. Randomness depends only on ``(seed, epoch, index)`` (see
    :meth:`set_epoch`), so a resumed run sees exactly the samples an uninterrupted one would.
    Decoded images are kept in memory when ``cache`` is set (485 LOL pairs take about 0.7 GB).
    ``context`` (a model's ``training_context``, called with the whole dark image and its
    reference) adds a third item: what the model conditions on, measured on the whole
    (flipped/rotated) image rather than the crop, as at inference.
    """

    def __init__(self, pairs: list[Pair], gamma: float | None = None, resize: tuple[int, int] | None = None,
                 crop: int | None = None, augment: bool = False, seed: int = 0, cache: bool = True,
                 context=None):
        self.context = context
        self.pairs = list(pairs)
        self.gamma, self.resize, self.crop, self.augment = gamma, resize, crop, augment
        self.seed, self.epoch, self.cache = seed, 0, cache
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def set_epoch(self, epoch: int) -> None:
        """Choose the random stream for the coming epoch."""
        self.epoch = epoch

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The pre-processed (gamma, resize) uint8 arrays of pair ``index``, before crops."""
        if index in self._cache:
            return self._cache[index]
        pair = self.pairs[index]
        low, high = read_image(pair.low), read_image(pair.high)
        if low.shape != high.shape:
            raise LowlightError(f"pair {pair.name} has different sizes: {low.shape[1]}x{low.shape[0]} vs "
                                f"{high.shape[1]}x{high.shape[0]}; both images of a pair must match")
        low = apply_gamma(low, self.gamma)
        if self.resize:
            low, high = resize_pair(low, high, self.resize)
        if self.cache:
            self._cache[index] = (low, high)
        return low, high

    def __getitem__(self, index: int):
        return self.sample(index, index)

    def sample(self, index: int, draw: int):
        """Pair ``index`` with the crop and flip of random draw ``draw`` of this epoch."""
        import torch

        full, full_high = self.load(index)
        rng = np.random.default_rng([self.seed, self.epoch, draw])
        low, high, (k, flip) = random_crop_flip(full, full_high, self.crop, self.augment, rng)
        to_t = lambda a: torch.from_numpy(a).permute(2, 0, 1).float().div_(255.0)  # noqa: E731
        if self.context is None:
            return to_t(low), to_t(high)
        whole, ref = np.rot90(full, k), np.rot90(full_high, k)
        whole = np.ascontiguousarray(whole[:, ::-1] if flip else whole)
        ref = np.ascontiguousarray(ref[:, ::-1] if flip else ref)
        with torch.no_grad():
            ctx = self.context(to_t(whole)[None], to_t(ref)[None])[0]
        return to_t(low), to_t(high), ctx
