"""Pure colour maths on arrays and tensors: the report's gamma table and the sRGB transfer curve."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def gamma_table(gamma: float) -> np.ndarray:
    """The report's uint8 lookup table for gamma correction: ``floor(255 * (i/255) ** (1/gamma))``.

    The report builds it with ``astype("uint8")``, which truncates; we keep that exactly so
    a model trained here sees the same inputs as the report's.
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma}")
    i = np.arange(256, dtype=np.float64) / 255.0
    table = (i ** (1.0 / gamma) * 255.0).astype(np.uint8)
    table.setflags(write=False)
    return table


def apply_gamma(image: np.ndarray, gamma: float | None) -> np.ndarray:
    """Brighten a uint8 image ``(H, W, C)`` with :func:`gamma_table`; ``None`` or 1 returns it unchanged."""
    if gamma is None or gamma == 1.0:
        return image
    if image.dtype != np.uint8:
        raise TypeError(f"apply_gamma expects uint8, got {image.dtype}")
    return gamma_table(float(gamma))[image]


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Inverse sRGB transfer curve (IEC 61966-2-1) for floats in [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """sRGB transfer curve for linear floats in [0, 1] (values are clipped first)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


#: Rec. 601 luma weights of R, G and B, as OpenCV's RGB-to-gray conversion uses them.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def luma(rgb, axis: int = -1):
    """Rec. 601 luma of a NumPy array (as float64) or a torch tensor (its own dtype) whose
    ``axis`` holds R, G, B: ``(..., 3)`` by default, ``axis=1`` for ``(B, 3, H, W)``. That axis is
    dropped."""
    if hasattr(rgb, "select") and hasattr(rgb, "unbind"):  # a torch tensor, without importing torch
        r, g, b = (rgb.select(axis, i) for i in range(3))
    else:
        rgb = np.asarray(rgb, dtype=np.float64)
        r, g, b = (np.take(rgb, i, axis=axis) for i in range(3))
    return LUMA_WEIGHTS[0] * r + LUMA_WEIGHTS[1] * g + LUMA_WEIGHTS[2] * b


def blend_strength(original, enhanced, strength: float):
    """``original + strength * (enhanced - original)``: 0 keeps the input, 1 is the full result."""
    if strength == 1.0:
        return enhanced
    return original + (enhanced - original) * strength


def adjust_exposure(image, stops: float):
    """Scale an sRGB float tensor in [0, 1] by ``2 ** stops`` in linear light, clipped to [0, 1]."""
    import torch

    if stops == 0.0:
        return image
    x = image.clamp(0.0, 1.0)
    lin = torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * (2.0 ** stops)
    lin = lin.clamp(0.0, 1.0)
    return torch.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin.clamp_min(1e-12) ** (1.0 / 2.4) - 0.055)
