"""Building blocks shared by the architectures: padding any input to the size a U-Net needs, and
the additive-skip U-Net pass the 1/4-resolution models share."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn as nn
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


def unet_pass(y: torch.Tensor, encoders: Sequence[nn.Module], downs: Sequence[nn.Module],
              ups: Sequence[nn.Module], decoders: Sequence[nn.Module],
              bottleneck: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Encoder levels (each after a down-step but the first), ``bottleneck`` on the deepest
    features, then decoders on ``up(y) + skip``: the U-Net of gain-unet and curve-unet."""
    skips = []
    for i, enc in enumerate(encoders):
        y = enc(y if i == 0 else downs[i - 1](y))
        skips.append(y)
    skips.pop()
    if bottleneck is not None:
        y = bottleneck(y)
    for up, dec in zip(ups, decoders):
        y = dec(up(y) + skips.pop())
    return y
