"""Tiled inference: run a network over a large image in overlapping tiles, blended without seams.

Memory is bounded by the tile, not the photo. Tiles start on the network's alignment grid
(``multiple``), so each tile down-samples exactly as the whole image would; neighbouring tiles
cross-fade only in the middle of their overlap, where both are far from their cut edges. Models
that condition on whole-image statistics get those computed once and passed to every tile.
"""

from __future__ import annotations

import math
from typing import Callable

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads on first use: the CLI's --help reads DEFAULT_OVERLAP from here
    import torch

#: Images up to this many pixels run in one piece by default; larger ones are tiled.
AUTO_TILE_PIXELS = 8_000_000
#: Default tile side and overlap in pixels when tiling is automatic.
DEFAULT_TILE = 1024  # curve-unet's full-resolution fields: 1536 peaked at 2.08 GB on 24 MP, 1024 at 1.57
DEFAULT_OVERLAP = 256


def auto_tile(height: int, width: int) -> int | None:
    """The tile size used when none is given: None (whole image) up to :data:`AUTO_TILE_PIXELS`."""
    return None if height * width <= AUTO_TILE_PIXELS else DEFAULT_TILE


def tile_spans(length: int, tile: int, overlap: int, multiple: int = 1) -> list[tuple[int, int]]:
    """``(start, stop)`` spans covering ``[0, length)`` with tiles of about ``tile`` pixels.

    The count of tiles is the fewest that keep each at most ``tile`` long with ``overlap`` shared
    between neighbours; the tiles are then made equal (so no sliver tile wastes work) and every
    start is rounded down to a multiple of ``multiple``.
    """
    if tile >= length:
        return [(0, length)]
    step = tile - overlap
    count = math.ceil((length - overlap) / step)
    size = math.ceil((length + (count - 1) * overlap) / count)
    spans = []
    for i in range(count):
        start = min(i * (size - overlap), length - size)
        start -= start % multiple
        stop = length if i == count - 1 else min(length, start + size)
        spans.append((start, stop))
    return spans


def _edge(size: int) -> torch.Tensor:
    """Weight across an overlap of ``size`` pixels for the tile entering it: 0 for the first
    quarter, a linear rise across the middle half, 1 for the last quarter. The leaving tile gets
    the mirror image, and the two always sum to 1."""
    import torch

    quarter = size // 4
    rise = torch.linspace(0.0, 1.0, size - 2 * quarter + 2)[1:-1]
    return torch.cat([torch.zeros(quarter), rise, torch.ones(quarter)])


def _weights_1d(spans: list[tuple[int, int]]) -> list[torch.Tensor]:
    """One blend-weight vector per span; 1 everywhere but where neighbours overlap."""
    import torch

    out = []
    for i, (a, b) in enumerate(spans):
        w = torch.ones(b - a)
        if i > 0:
            lead = spans[i - 1][1] - a
            w[:lead] = _edge(lead)
        if i + 1 < len(spans):
            trail = b - spans[i + 1][0]
            w[b - a - trail:] = torch.minimum(w[b - a - trail:], _edge(trail).flip(0))
        out.append(w)
    return out


def run_tiled(forward: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor, tile: int,
              overlap: int = DEFAULT_OVERLAP, multiple: int = 1,
              progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Apply ``forward`` to ``image`` ``(1, C, H, W)`` tile by tile; returns the blended output.

    ``forward`` maps a tile (on any device) to an output of the same size. The input and output
    stay on ``image``'s device (the CPU for big photos); only one tile at a time is elsewhere.
    """
    import torch

    if tile < 2 * multiple or tile <= overlap:
        raise ValueError(f"tile {tile} must exceed the overlap {overlap} and 2 x {multiple}")
    _, _, height, width = image.shape
    rows = tile_spans(height, tile, overlap, multiple)
    cols = tile_spans(width, tile, overlap, multiple)
    wy, wx = _weights_1d(rows), _weights_1d(cols)
    out = None
    total = torch.zeros(1, 1, height, width)
    done, count = 0, len(rows) * len(cols)
    for (y0, y1), ry in zip(rows, wy):
        for (x0, x1), rx in zip(cols, wx):
            result = forward(image[:, :, y0:y1, x0:x1]).float().to(image.device)
            if out is None:
                out = torch.zeros(1, result.shape[1], height, width, device=image.device)
            weight = (ry[:, None] * rx[None, :]).to(image.device)
            out[:, :, y0:y1, x0:x1] += result * weight
            total[:, :, y0:y1, x0:x1] += weight
            done += 1
            if progress is not None:
                progress(done, count)
    return out / total.clamp_min(1e-8).to(image.device)
