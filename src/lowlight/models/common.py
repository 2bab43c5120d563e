"""Building blocks shared by the architectures: padding any input to the size a U-Net needs."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad ``(B, C, H, W)`` on the bottom and right to multiples of ``multiple``.

    Reflection avoids the dark borders zero padding would add; replication is the fallback
    for images too small to reflect. Returns the padded tensor and the original ``(H, W)``.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`: keep the top-left ``(H, W)``."""
    return x[..., : size[0], : size[1]]
