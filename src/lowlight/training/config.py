"""Typed configuration for training: one dataclass with documented defaults, named recipes, and
``key=value`` overrides converted to each field's type (unknown keys are rejected).

The resolved config is saved as JSON beside every checkpoint, so a run can be repeated from its
output folder alone (``lowlight train --config RUN_DIR/config.json``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import LowlightError


@dataclass
class TrainConfig:
    """Everything a training run depends on. Defaults: a small SID U-Net on 128-pixel crops."""

    data: str = ""                      #: training pairs (any layout :mod:`lowlight.media.pairs` detects)
    extra_data: list = field(default_factory=list)  #: more training-pair folders, mixed in (never validated on)
    val_data: Optional[str] = None      #: validation pairs; default: hold out ``val_fraction`` of ``data``
    val_fraction: float = 0.1           #: share of ``data`` held out when ``val_data`` is not given
    out: str = "runs/train"             #: run folder: config, metrics CSV, plot, checkpoints
    model: str = "sid-unet"             #: registered model name (``lowlight models``)
    model_args: dict = field(default_factory=dict)  #: constructor overrides, e.g. ``{"width": 16}``
    init: Optional[str] = None          #: weights to start from (same model; tensors that match are loaded)
    gamma: Optional[float] = None       #: the report's gamma LUT on the dark input (2.2), part of the model
    resize: Optional[tuple] = None      #: ``(width, height)`` to shrink training pairs to (report: 150x150)
    crop: Optional[int] = 128           #: random square crop for training; ``None`` trains on whole images
    augment: bool = True                #: random flips and 90-degree rotations
    jpeg: float = 0.0                   #: chance a ``data`` pair's dark input is saved as a phone JPEG first (q 70-95, 4:2:0)
    repeat: int = 1                     #: passes over the training pairs per epoch (for small sets)
    data_repeat: int = 1                #: times each ``data`` pair appears per pass, ``extra_data`` pairs once
    max_pairs: Optional[int] = None     #: use only the first N training pairs (quick runs)
    batch_size: int = 8
    lr: float = 5e-4                    #: AdamW learning rate (the report's tuned value)
    weight_decay: float = 1e-4          #: AdamW weight decay
    loss: str = "mse"                   #: mse (the report's), l1, charbonnier, ssim or l1+ssim
    forgive_white: bool = False         #: no loss where the reference is clipped white and the output brighter
    gt_mean_data: bool = False          #: the loss on ``data`` pairs (and validation) ignores overall brightness:
                                        #: each output crop is scaled to its reference's mean grey level first
    scheduler: str = "plateau"          #: plateau (the report's ReduceLROnPlateau) or cosine (to lr/100)
    plateau_patience: int = 2           #: ReduceLROnPlateau on validation loss
    plateau_factor: float = 0.5
    amp: bool = True                    #: fp16 autocast + gradient scaler on CUDA; fp32 on CPU regardless
    accumulation: int = 1               #: batches per optimiser step
    clip_norm: Optional[float] = 1.0    #: max gradient norm; ``None`` disables clipping
    ensemble: int = 1                   #: models trained side by side; the best by validation loss is kept
    epochs: int = 20
    max_minutes: Optional[float] = None  #: stop once this much training time (validation excluded) is spent
    stop_after: Optional[int] = None    #: end after this many epochs, the schedule still set by ``epochs``
    seed: int = 0
    device: str = "auto"                #: auto (CUDA if available), cpu or cuda
    workers: int = 0                    #: DataLoader worker processes
    channels_last: bool = True          #: NHWC memory format (faster convolutions on CPU)

    def _check_types(self) -> None:
        """Each field holds a value of its declared type (``TrainConfig(epochs="five")`` is an error
        here, not a TypeError deep inside training); ints pass for floats."""
        import typing

        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            value, hint = getattr(self, f.name), hints[f.name]
            allowed = tuple(a for a in typing.get_args(hint) if a is not type(None)) if typing.get_origin(hint) \
                is typing.Union else (hint,)
            if value is None and type(None) in typing.get_args(hint):
                continue
            declared = tuple(typing.get_origin(a) or a for a in allowed)
            kinds = declared + ((int,) if float in declared else ()) + ((list,) if tuple in declared else ())
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in declared):
                words = {int: "a whole number", float: "a number", str: "text", bool: "true or false", list: "a list",
                         dict: "a mapping", tuple: "a pair of numbers"}
                names = " or ".join(words.get(k, k.__name__) for k in declared)
                raise LowlightError(f"{f.name} must be {names}, got {value!r}")

    def validate(self) -> "TrainConfig":
        """Raise :class:`LowlightError` for values no run could use."""
        from .losses import LOSSES
        from ..models import model_args

        if not self.data:
            raise LowlightError("no training data given; pass --data DIR (a folder of low/high pairs)")
        self._check_types()
        positive = {"batch_size": self.batch_size, "epochs": self.epochs, "accumulation": self.accumulation,
                    "ensemble": self.ensemble, "repeat": self.repeat,
                    "data_repeat": self.data_repeat}
        for key, value in positive.items():
            if value < 1:
                raise LowlightError(f"{key} must be at least 1, got {value}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise LowlightError(f"max_minutes must be positive, got {self.max_minutes}")
        if self.lr <= 0:
            raise LowlightError(f"lr must be positive, got {self.lr}")
        if self.loss not in LOSSES:
            raise LowlightError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.scheduler not in ("plateau", "cosine"):
            raise LowlightError(f"unknown scheduler {self.scheduler!r}; choose plateau or cosine")
        if not 0.0 <= self.jpeg <= 1.0:
            raise LowlightError(f"jpeg is a probability between 0 and 1, got {self.jpeg}")
        if self.jpeg and self.gamma is not None:
            raise LowlightError("jpeg and gamma do not combine: the camera's JPEG comes before any gamma; "
                                "leave one out")
        if self.gamma is not None and self.gamma <= 0:
            raise LowlightError(f"gamma must be positive, got {self.gamma}")
        if self.crop is not None and self.crop < 16:
            raise LowlightError(f"crop must be at least 16 pixels, got {self.crop}")
        if not 0.0 < self.plateau_factor < 1.0:
            raise LowlightError(f"plateau_factor must be between 0 and 1, got {self.plateau_factor}")
        model_args(self.model, **self.model_args)
        if self.init is not None and not Path(self.init).is_file():
            raise LowlightError(f"init weights not found: {self.init}; give a .safetensors file from a run "
                                f"or the package (lowlight models)")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: Named starting points; ``seed`` is exactly the report's recipe.
RECIPES: dict[str, dict[str, Any]] = {
    "default": {},
    "seed": dict(model="seed-unet", gamma=2.2, resize=(150, 150), crop=None, augment=False,
                 batch_size=4, lr=1e-4, weight_decay=1e-4, loss="mse", plateau_patience=2,
                 plateau_factor=0.5, amp=True, accumulation=1, clip_norm=1.0, ensemble=5, epochs=35),
}
RECIPES["seed-tuned"] = {**RECIPES["seed"], "lr": 5e-4}


def recipe(name: str) -> TrainConfig:
    """A fresh config from a named recipe."""
    if name not in RECIPES:
        raise LowlightError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}")
    return apply(TrainConfig(), RECIPES[name])


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(TrainConfig)


def _convert(key: str, value: Any, hint: Any) -> Any:
    """Convert ``value`` (often a string from the command line) to the type ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (Union, getattr(types, "UnionType", Union)):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return _convert(key, value, args[0])
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if hint is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if hint is float:
            return float(value)
        if hint is str:
            return str(value)
        if hint is tuple or origin is tuple:
            return parse_size(value)
        if hint is list or origin is list:
            if isinstance(value, (list, tuple)):
                return [str(v) for v in value]
            text = str(value).strip()
            return json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v]
        if hint is dict or origin is dict:
            if isinstance(value, dict):
                return dict(value)
            parsed = json.loads(value)
            if not isinstance(parsed, dict):
                raise ValueError(value)
            return parsed
    except (ValueError, TypeError, json.JSONDecodeError):
        name = getattr(hint, "__name__", str(hint))
        raise LowlightError(f"bad value for {key}: {value!r} is not a valid {name}") from None
    return value


def parse_size(value: Any) -> tuple[int, int]:
    """``150``, ``"150"``, ``"150x100"`` or ``[150, 100]`` to ``(width, height)``."""
    if isinstance(value, (list, tuple)):
        w, h = (int(v) for v in value)
    elif isinstance(value, int):
        w = h = value
    else:
        text = str(value).lower()
        w, h = (int(v) for v in text.split("x")) if "x" in text else (int(text), int(text))
    if w < 1 or h < 1:
        raise ValueError(value)
    return (w, h)


def apply(cfg: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    """A copy of ``cfg`` with ``overrides`` applied, each converted to its field's type."""
    hints = _field_types()
    changes = {}
    for key, value in overrides.items():
        key = key.replace("-", "_")
        if key not in hints:
            raise LowlightError(f"unknown setting {key!r}; valid settings: {', '.join(sorted(hints))}")
        changes[key] = _convert(key, value, hints[key])
    return dataclasses.replace(cfg, **changes)


def parse_assignments(items: list[str], flag: str = "--set") -> dict[str, str]:
    """``["lr=1e-3", "model_args={\\"width\\": 16}"]`` to a dict; a missing ``=`` is an error."""
    out = {}
    for item in items:
        if "=" not in item:
            raise LowlightError(f"{flag} expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


def load_config_file(path: Path) -> dict[str, Any]:
    """Settings from a JSON file: a bare TrainConfig dict, or a run's ``config.json`` (its ``config`` key)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LowlightError(f"config file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LowlightError(f"config file {path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]
    if not isinstance(data, dict):
        raise LowlightError(f"config file {path} must hold a JSON object of settings")
    return data
