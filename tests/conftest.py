"""Shared fixtures: tiny data kept in the repo, the optional ../shared datasets, and the slow marker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``shared`` skip, saying why, where ../shared/datasets is absent. Tests marked
    ``slow`` run like the rest (the README's command runs everything); ``-m 'not slow'`` leaves
    them out for a quick check."""
    skip_shared = pytest.mark.skip(reason=f"needs the shared datasets at {SHARED}")
    for item in items:
        if "shared" in item.keywords and not SHARED.is_dir():
            item.add_marker(skip_shared)


@pytest.fixture
def lol_tiny() -> Path:
    """Three 64x48 crops of LOL-v1 eval15 pairs, as a low/ + high/ folder."""
    return DATA / "lol"


@pytest.fixture
def photos_tiny() -> Path:
    """Three normal-light photos, long side 96."""
    return DATA / "photos"


@pytest.fixture
def shared() -> Path:
    return SHARED


def write_pairs(root: Path, names, size=(40, 32), low="low", high="high", seed=0, ext=".png",
                low_prefix="", high_prefix=""):
    """Make a folder of random image pairs for layout and training tests."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / low).mkdir(parents=True, exist_ok=True)
    (root / high).mkdir(parents=True, exist_ok=True)
    for n in names:
        hi = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        lo = (hi // 8).astype(np.uint8)
        Image.fromarray(lo).save(root / low / f"{low_prefix}{n}{ext}")
        Image.fromarray(hi).save(root / high / f"{high_prefix}{n}{ext}")
    return root
