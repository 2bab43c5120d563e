"""lowlight: make photos taken in the dark look as if they were taken in good light.

The public API is imported lazily so that ``import lowlight`` (and ``lowlight --help``) stays
instant; PyTorch loads on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Enhancer": "lowlight.core.enhancer",
    "load_model": "lowlight.core.enhancer",
    "enhance": "lowlight.core.enhancer",
    "create_model": "lowlight.models",
    "list_models": "lowlight.models",
    "psnr": "lowlight.research.metrics",
    "ssim": "lowlight.research.metrics",
    "LowlightError": "lowlight.errors",
    "TrainConfig": "lowlight.training.config",
    "train": "lowlight.training.loop",
    "evaluate": "lowlight.research.evaluation",
    "find_pairs": "lowlight.media.pairs",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lowlight' has no attribute {name!r}")


def __dir__():
    return __all__
