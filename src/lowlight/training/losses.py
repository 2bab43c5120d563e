"""Training losses by name: MSE (the report's), L1, Charbonnier, SSIM and L1 plus SSIM; and two
adjustments of the output before the loss: :func:`forgive_white` for references with clipped
highlights, :func:`match_mean` for references whose brightness is not in the input."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import LowlightError
from ..research.metrics import gt_mean_scale, ssim_map

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def charbonnier(output: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Smooth L1: ``mean(sqrt((x - y)^2 + eps^2))``, robust to outliers yet differentiable at 0."""
    return torch.sqrt((output - target) ** 2 + eps * eps).mean()


def ssim_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 - SSIM`` with the same window as the metric (computed in float32 under autocast)."""
    return 1.0 - ssim_map(output.float(), target.float()).mean()


def l1_ssim(output: torch.Tensor, target: torch.Tensor, weight: float = 0.2) -> torch.Tensor:
    """L1 for colour and brightness plus ``weight * (1 - SSIM)`` for local structure and noise."""
    return F.l1_loss(output, target) + weight * ssim_loss(output, target)


WHITE = 254.5 / 255  #: a reference at or above this is clipped white


def forgive_white(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``output`` with values above a clipped-white reference replaced by the reference.

    Enhanced images are clamped to [0, 1], so brighter than a clipped highlight is exactly right;
    penalising it teaches a gain-predicting model to dim whatever is near a lamp (a dark halo).
    """
    return torch.where((target >= WHITE) & (output > target), target, output)


def match_mean(output: torch.Tensor, target: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """``output`` with the samples flagged in ``which`` (``(N,)``, non-zero = flagged) scaled to
    their target's mean grey level and clipped, as the GT-mean score does.

    LOL's references were exposed by the photographer, and how bright each is cannot be read off
    its dark input (docs/PEERS.md); a loss on the raw output spends most of its gradient on that
    guess. Scaled first, the loss on those pairs teaches tone shape, colour, noise and detail, and
    the overall brightness is learned from the pairs whose references define it.
    """
    return torch.where(which.view(-1, 1, 1, 1).to(torch.bool), gt_mean_scale(output, target), output)


LOSSES: dict[str, Loss] = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "charbonnier": charbonnier,
    "ssim": ssim_loss,
    "l1+ssim": l1_ssim,
}


def get_loss(name: str) -> Loss:
    """Look a loss up by name; unknown names list the choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise LowlightError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
