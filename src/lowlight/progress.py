"""Progress bars that show on a terminal and stay out of logs and pipes."""

from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T], enabled: bool = True, **kwargs) -> Iterable[T]:
    """A tqdm bar over ``iterable``; it draws only when ``enabled`` and stderr is a terminal."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=None if enabled else True, **kwargs)


def counter(total: int | None, enabled: bool = True, **kwargs):
    """A tqdm bar advanced by hand (``bar.update(n)``), for work that is not one iterable (video frames)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=None if enabled else True, **kwargs)
