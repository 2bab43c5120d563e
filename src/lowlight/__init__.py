"""lowlight: make photos taken in the dark look as if they were taken in good light.

The public API is imported lazily so that ``import lowlight`` (and ``lowlight --help``) stays
instant; PyTorch loads on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Enhancer": "lowlight.inference",
    "load_model": "lowlight.inference",
    "enhance": "lowlight.inference",
    "create_model": "lowlight.models",
    "list_models": "lowlight.models",
    "psnr": "lowlight.metrics",
    "ssim": "lowlight.metrics",
    "LowlightError": "lowlight.errors",
    "TrainConfig": "lowlight.config",
    "train": "lowlight.training",
    "evaluate": "lowlight.evaluation",
    "find_pairs": "lowlight.data",
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
