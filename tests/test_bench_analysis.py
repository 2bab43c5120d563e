"""The analysis behind the very-dark issue's "what would close it": the oracle corrections of
``bench/gtmean_headroom.py`` and the quantisation-aware deblocking of ``bench/jpeg_deblock.py``."""

from __future__ import annotations

import importlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _bench(name: str):
    pytest.importorskip("scipy", reason="the bench analysis needs SciPy (lowlight[research])")
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def _scene(seed: int = 0) -> np.ndarray:
    """A smooth 64x48 colour scene with an edge, uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:48, 0:64] / 64.0
    rgb = np.stack([0.3 + 0.4 * x, 0.5 - 0.2 * y, 0.2 + 0.3 * x * y], axis=-1)
    rgb[:, 40:] *= 0.5
    return (np.clip(rgb + rng.normal(0, 0.01, rgb.shape), 0, 1) * 255).round().astype(np.uint8)


def test_headroom_oracles_find_the_error_each_is_made_for():
    headroom = _bench("gtmean_headroom").headroom
    ref = _scene()
    r = ref.astype(np.float64) / 255.0
    tinted = (np.clip(r * [1.0, 0.8, 0.6], 0, 1) * 255).round().astype(np.uint8)  # a white-balance error
    toned = (np.clip(r ** 1.5, 0, 1) * 255).round().astype(np.uint8)              # a tone error
    t, g = headroom(tinted, ref), headroom(toned, ref)
    assert t["gains"] > t["gt-mean"] + 10 and t["affine"] > 40                     # gains undo a tint
    assert g["gamma"] > g["gt-mean"] + 10 and g["best gamma"] == pytest.approx(1 / 1.5, abs=0.05)
    assert g["affine"] >= g["gains"] - 0.5                                          # a superset of gains


def test_pocs_deblocking_stays_in_the_files_quantisation_cells_and_smooths_blocks():
    jd = _bench("jpeg_deblock")
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:48, 0:64]
    textured = np.stack([(x * 3) % 256, (y * 5) % 256, ((x + y) * 2) % 256], axis=-1).astype(np.float64)
    textured = np.clip(textured + rng.normal(0, 10, textured.shape), 0, 255).astype(np.uint8)
    data = jd._jpeg(textured, 50, 2)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float64)
    table = np.array(Image.open(io.BytesIO(data)).quantization[0], np.float64).reshape(8, 8)
    luma = lambda a: (a @ jd.YCC.T)[..., 0]  # noqa: E731
    coef = lambda a: jd.DCT @ jd._blocks(luma(a)) @ jd.DCT.T  # noqa: E731
    in_cells = lambda a: bool((np.abs(coef(a) - coef(decoded)) <= table + 2.0).all())  # noqa: E731
    out = jd.deblocked(data) * 255.0
    assert in_cells(out)                                       # consistent with what the file stores
    assert not in_cells(gaussian_filter(decoded, (3, 3, 0)))   # which a plain blur is not
    edge = lambda a: np.abs(np.diff(luma(a), axis=1))[:, 7::8].mean()  # noqa: E731  # steps across block borders
    assert edge(out) < edge(decoded)
