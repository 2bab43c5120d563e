"""Training samples from image pairs: the report's gamma and resizing, random crops, flips and
rotations, drawn so that a resumed run sees exactly what an uninterrupted one would."""

from __future__ import annotations

import numpy as np

from ..color import apply_gamma
from ..errors import LowlightError
from ..media.pairs import Pair, resize_pair
from ..media.photo import read_image


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


class PairedDataset:
    """A map-style dataset of ``(low, high)`` float tensors ``(3, H, W)`` in [0, 1].

    ``gamma`` brightens the dark input with the report's lookup table; ``resize`` (``(w, h)``)
    shrinks both images as the report did; ``crop`` and ``augment`` draw a random square and a
    flip/rotation per sample. Randomness depends only on ``(seed, epoch, index)`` (see
    :meth:`set_epoch`), so a resumed run sees exactly the samples an uninterrupted one would.
    Decoded images are kept in memory when ``cache`` is set (485 LOL pairs take about 0.7 GB).
    ``context`` (a model's ``training_context``, called with the whole dark image and its
    reference) adds a third item: what the model conditions on, measured on the whole
    (flipped/rotated) image rather than the crop, as at inference. ``jpeg`` (a probability)
    saves the dark input of each of the first ``jpeg_pairs`` pairs (all when None) as a phone
    JPEG (quality 70-95, 4:2:0) before anything else, a fresh draw each epoch: camera JPEGs of dark
    scenes carry 8x8 blocks, subsampled chroma and quantised shadows that clean pairs do not.
    """

    def __init__(self, pairs: list[Pair], gamma: float | None = None, resize: tuple[int, int] | None = None,
                 crop: int | None = None, augment: bool = False, seed: int = 0, cache: bool = True,
                 context=None, jpeg: float = 0.0, jpeg_pairs: int | None = None):
        self.context = context
        self.jpeg, self.jpeg_pairs = jpeg, jpeg_pairs
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
        if self.jpeg and (self.jpeg_pairs is None or index < self.jpeg_pairs):
            from .synth import JPEG_QUALITY_RANGE, jpeg_roundtrip

            coin = np.random.default_rng([self.seed, self.epoch, draw, 1])  # its own stream: crops stay as without
            if coin.uniform() < self.jpeg:
                full = np.array(jpeg_roundtrip(full, int(coin.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))))
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
