"""Model size and cost: parameter count and multiply-accumulates, measured without real compute."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not, buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def gmacs(model: nn.Module, height: int = 400, width: int = 600) -> float:
    """Giga multiply-accumulates of one forward pass on a ``(1, 3, height, width)`` input.

    Runs on the ``meta`` device (a copy, unless the model is already there), so even the 130M-parameter model costs no memory or
    time; counts convolutions and matrix products (the padded size a U-Net needs included).
    """
    import copy

    on_meta = all(p.is_meta for p in model.parameters())
    meta = (model if on_meta else copy.deepcopy(model).to("meta")).eval()
    x = torch.empty(1, 3, height, width, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(x)
    return counter.get_total_flops() / 2e9
