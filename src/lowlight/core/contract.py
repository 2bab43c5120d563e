"""The contract every enhancer keeps: our networks, the peers' networks and the classical methods.

An enhancer says what it can do (:class:`ImageEnhancer`) and renders its own result; everything
after that is the same for all of them (:func:`process`): the options are checked against what
the enhancer can do, batches are split where it cannot take them whole, and strength, exposure
and the clamp are applied by one finishing step (:func:`finish`). Surfaces never ask what kind of
enhancer they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..color import adjust_exposure, blend_strength
from ..errors import LowlightError
from ..media.photo import to_tensor, to_uint8
from .tiling import DEFAULT_OVERLAP, auto_tile

if TYPE_CHECKING:  # torch loads on first use, so that the CLI's --help stays instant
    import numpy as np
    import torch


@dataclass(frozen=True)
class EnhanceOptions:
    """How to enhance, checked once for the CLI, the Python API and the server alike.

    ``strength`` blends from the input (0) to the full result (1); ``exposure`` then scales it
    by ``2 ** exposure`` in linear light. ``brightness`` asks a model that takes a brightness
    target for an output of that mean luma (0 to 1; None: the model's own choice). ``tile``: None picks by image size
    (:func:`lowlight.core.tiling.auto_tile`), 0 never tiles, N uses N-pixel tiles that share
    ``overlap`` pixels with their neighbours.
    """

    strength: float = 1.0
    exposure: float = 0.0
    tile: int | None = None
    overlap: int = DEFAULT_OVERLAP
    brightness: float | None = None

    def __post_init__(self):
        if self.brightness is not None and not 0.01 <= self.brightness <= 0.99:
            raise LowlightError(f"brightness is the output's mean luma, between 0.01 and 0.99; got {self.brightness:g}")
        if not 0.0 <= self.strength <= 1.0:
            raise LowlightError(f"strength must be between 0 and 1, got {self.strength:g}")
        if not -10.0 <= self.exposure <= 10.0:
            raise LowlightError(f"exposure must be between -10 and 10 stops, got {self.exposure:g}")
        if self.overlap < 0:
            raise LowlightError(f"tile overlap must be 0 or more, got {self.overlap}")
        if self.tile is not None and self.tile < 0:
            raise LowlightError(f"tile must be 0 (never tile) or a positive size, got {self.tile}")
        if self.tile and self.tile <= self.overlap:
            raise LowlightError(f"tile ({self.tile}) must be larger than the overlap ({self.overlap}); "
                                "pass a bigger --tile or a smaller --tile-overlap")

    def tile_size(self, height: int, width: int) -> int | None:
        """The tile side for an image of this size, or None when it runs whole."""
        size = auto_tile(height, width) if self.tile is None else (self.tile or None)
        return None if size is None or (size >= height and size >= width) else size


@runtime_checkable
class ImageEnhancer(Protocol):
    """What stands behind every ``--model``, ``--weights`` and ``--method``.

    ``render`` takes a float RGB tensor ``(B, 3, H, W)`` in [0, 1] on the CPU and returns the
    enhancer's own full-strength result, same shape; it honours ``options.tile`` and
    ``options.brightness`` where it says it can. ``batched``: ``render`` takes ``B > 1`` at once
    (otherwise :func:`process` feeds one image at a time). ``tiles``: it can run in tiles.
    ``takes_brightness``: it follows a brightness target.
    """

    name: str

    @property
    def batched(self) -> bool: ...

    @property
    def tiles(self) -> bool: ...

    @property
    def takes_brightness(self) -> bool: ...

    def render(self, rgb: torch.Tensor, options: EnhanceOptions) -> torch.Tensor: ...


def check_options(enhancer: ImageEnhancer, options: EnhanceOptions) -> None:
    """A one-line error when ``options`` ask for what ``enhancer`` cannot do."""
    if options.brightness is not None and not enhancer.takes_brightness:
        raise LowlightError(f"{enhancer.name} chooses its own brightness and takes no --brightness target; "
                            "use --exposure STOPS to brighten its result instead")
    if options.tile and not enhancer.tiles:
        raise LowlightError(f"{enhancer.name} works on the whole image and cannot run in tiles; "
                            "leave out --tile (it applies to models)")


def finish(rgb: torch.Tensor, out: torch.Tensor, options: EnhanceOptions) -> torch.Tensor:
    """The step shared by every enhancer: clamp, blend ``strength`` of the result into the input
    ``rgb``, add ``exposure`` stops in linear light, clamp again; ``(B, 3, H, W)`` in [0, 1]."""
    out = blend_strength(rgb, out.clamp(0.0, 1.0), options.strength)
    return adjust_exposure(out, options.exposure).clamp_(0.0, 1.0)


def process(enhancer: ImageEnhancer, rgb: torch.Tensor, options: EnhanceOptions | None = None,
            **kwargs) -> torch.Tensor:
    """Enhance a float RGB tensor ``(B, 3, H, W)`` in [0, 1] (on the CPU) with any enhancer;
    returns the same, clamped. ``options`` (or its fields as keywords) as :class:`EnhanceOptions`
    says. Images that run in tiles, and batches an enhancer cannot take whole, go one at a time."""
    opts = options if options is not None else EnhanceOptions(**kwargs)
    check_options(enhancer, opts)
    if rgb.shape[0] > 1 and (not enhancer.batched or opts.tile_size(*rgb.shape[-2:]) is not None):
        import torch

        return torch.cat([process(enhancer, rgb[i:i + 1], opts) for i in range(rgb.shape[0])])
    return finish(rgb, enhancer.render(rgb, opts), opts)


class Enhances:
    """The faces every enhancer shares, built on its ``render``: ``process`` (:func:`process`) and
    a call on a uint8 RGB image ``(H, W, 3)`` that returns uint8 (what evaluation uses)."""

    def process(self, rgb: torch.Tensor, options: EnhanceOptions | None = None, **kwargs) -> torch.Tensor:
        return process(self, rgb, options, **kwargs)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return to_uint8(self.process(to_tensor(image)))
