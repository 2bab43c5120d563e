"""Running a model on images: one :class:`Enhancer` used by the Python API, the CLI, evaluation
and validation during training, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from .color import apply_gamma
from .errors import LowlightError
from .io import read_image, to_tensor, to_uint8


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


@dataclass
class Enhancer:
    """A model with its input pre-processing: uint8 RGB ``(H, W, 3)`` in, uint8 RGB out.

    ``gamma`` is the report's lookup-table brightening applied to the dark input before the
    network, exactly as in training. Stateless per call, so one Enhancer can serve many.
    """

    net: nn.Module
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    gamma: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def predict(self, image: np.ndarray) -> torch.Tensor:
        """Raw network output ``(1, 3, H, W)`` (float, unclamped) for a uint8 image."""
        x = to_tensor(apply_gamma(image, self.gamma)).to(self.device)
        with torch.inference_mode():
            return self.net(x).float()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Enhance a uint8 RGB image ``(H, W, 3)``; the result is clamped and rounded to uint8."""
        return to_uint8(self.predict(image))


def load_model(name_or_path: str | Path, device: str = "auto") -> Enhancer:
    """Load a model once for many calls: a path to a ``.safetensors`` file from ``lowlight train``,
    or the name of a registered model that ships pretrained weights."""
    from .checkpoint import load_weights
    from .models import get_entry

    dev = pick_device(device)
    path = Path(name_or_path)
    if path.suffix == ".safetensors" or path.exists():
        net, meta = load_weights(path, dev)
        return Enhancer(net, meta["model"], meta["model_args"], meta["preprocess"].get("gamma"), meta)
    get_entry(str(name_or_path))  # a clear error for unknown names
    raise LowlightError(f"model {name_or_path!r} has no pretrained weights in this version; "
                        "train one with `lowlight train` and pass --weights RUN_DIR/best.safetensors")


def enhance(image, model: Enhancer | str | Path | None = None) -> Any:
    """Enhance a photo: ``image`` is a path or a uint8 RGB array ``(H, W, 3)``; returns a uint8 array."""
    if model is None:
        raise LowlightError("no model given: pass model=lowlight.load_model('run/best.safetensors')")
    enhancer = model if isinstance(model, Enhancer) else load_model(model)
    if isinstance(image, (str, Path)):
        image = read_image(Path(image), exif_transpose=True)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise LowlightError(f"expected a uint8 RGB array (H, W, 3), got {image.dtype} {image.shape}")
    return enhancer(image)
