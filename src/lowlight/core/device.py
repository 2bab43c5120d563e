"""Where tensors run: ``auto`` means a CUDA GPU when there is one, else the CPU."""

from __future__ import annotations

import torch

from ..errors import LowlightError


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` means CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise LowlightError(f"unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LowlightError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
    return device
