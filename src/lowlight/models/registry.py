"""A flat registry of named model configurations: ``create_model("sid-unet", width=16)``.

Each entry names a constructor and its default arguments; checkpoints store the name and the
arguments so a model is rebuilt from the file alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch.nn as nn

from ..errors import LowlightError


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its constructor, defaults and a one-line description."""

    name: str
    builder: Callable[..., nn.Module]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: For a published model (a peer): the authors' weights file it loads; users pass it with
    #: ``--weights`` (the weights are theirs, never bundled). Empty for lowlight's own models.
    expects: str = ""

    @property
    def peer(self) -> bool:
        return bool(self.expects)


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, description: str = "", expects: str = "", **defaults: Any):
    """Class decorator adding a model under ``name`` with default constructor arguments;
    ``expects`` marks a peer and names the authors' weights file it loads."""
    def wrap(cls):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelEntry(name, cls, dict(defaults), description, expects)
        return cls
    return wrap


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    """The registry entry for ``name``; unknown names list the choices."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LowlightError(f"unknown model {name!r}; choose one of {', '.join(list_models())} "
                            "(see `lowlight models`)") from None


def model_args(name: str, **overrides: Any) -> dict[str, Any]:
    """The full constructor arguments of ``name``: its defaults updated with ``overrides``."""
    entry = get_entry(name)
    unknown = sorted(set(overrides) - set(entry.defaults))
    if unknown:
        raise LowlightError(f"model {name!r} has no argument {unknown[0]!r}; "
                            f"its arguments are {', '.join(sorted(entry.defaults))}")
    return {**entry.defaults, **overrides}


def saved_args(name: str, saved: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments for the ``model_args`` a weights file records. An argument the file
    does not name predates it: it takes the constructor's own default (how the model computed
    before the argument existed), not the registry's current default."""
    import inspect

    entry = get_entry(name)
    params = inspect.signature(entry.builder).parameters
    before = {k: params[k].default for k in entry.defaults
              if k in params and params[k].default is not inspect.Parameter.empty}
    return {**entry.defaults, **before, **saved}


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build a freshly initialised model by name (weights come from :mod:`lowlight.core.checkpoint`)."""
    entry = get_entry(name)
    return entry.builder(**model_args(name, **overrides))
