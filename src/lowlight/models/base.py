"""What a network must offer to run behind :class:`lowlight.core.enhancer.Enhancer`, tiled or not,
in training, evaluation and ONNX export: one base class with defaults instead of probing."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
import torch.nn as nn

from .common import crop_to, pad_to_multiple


@runtime_checkable
class Network(Protocol):
    """Anything that enhances like a lowlight model: a torch :class:`EnhancementNet` or an ONNX
    Runtime session wrapped by :mod:`lowlight.core.onnx_backend`."""

    multiple: int

    def context_stats(self, x: torch.Tensor) -> torch.Tensor | None: ...

    def __call__(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor: ...


class EnhancementNet(nn.Module):
    """Base of every registered model: ``(B, 3, H, W)`` in [0, 1] to the same shape, any size.

    Subclasses set :attr:`multiple` and implement :meth:`forward_padded`; models that condition
    on the whole image override :meth:`context_stats` (a pure function of the image, no weights),
    which tiled inference computes once on the full image and hands to every tile.
    """

    #: Input sides must be multiples of this; :meth:`forward` pads and crops back.
    multiple: int = 1
    #: Whether :meth:`context_stats` gives anything (training then measures it on whole images).
    uses_context: bool = False

    def context_stats(self, x: torch.Tensor) -> torch.Tensor | None:
        """Whole-image conditioning of ``x`` ``(B, 3, H, W)``; None for models that need none."""
        return None

    def training_context(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor | None:
        """What training conditions on, from the whole dark image and its reference: by default
        the same as inference (:meth:`context_stats` of ``low``)."""
        return self.context_stats(low)

    def with_brightness(self, stats: torch.Tensor, x: torch.Tensor, level: float) -> torch.Tensor:
        """``stats`` (of ``x``) asking for an output of mean luma ``level``; only models that take a
        brightness target (:attr:`takes_brightness`) can."""
        raise NotImplementedError(f"{type(self).__name__} decides its own brightness")

    @property
    def takes_brightness(self) -> bool:
        """Whether :meth:`with_brightness` works (the model is conditioned on a brightness target)."""
        return False

    def forward(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        """``stats``: :meth:`context_stats` of the full image when ``x`` is one tile of it."""
        if stats is None:
            stats = self.context_stats(x)
        padded, size = pad_to_multiple(x, self.multiple)
        return crop_to(self.forward_padded(padded, stats), size)

    def forward_padded(self, x: torch.Tensor, stats: torch.Tensor | None) -> torch.Tensor:
        """The network on an input whose sides are multiples of :attr:`multiple` (what ONNX exports)."""
        raise NotImplementedError
