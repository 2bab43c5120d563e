"""Weights files: safetensors with everything needed to rebuild and use the model in the metadata.

A checkpoint loads with nothing but itself: the model name and constructor arguments, the
input pre-processing (the report's gamma), what it was trained on and what it measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from .. import __version__
from ..errors import LowlightError
from ..media.files import atomic_write

FORMAT = "lowlight-weights/1"


def save_weights(path: Path, model: nn.Module, name: str, args: dict[str, Any],
                 preprocess: dict[str, Any] | None = None, training: dict[str, Any] | None = None,
                 metrics: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s state dict (parameters and buffers, on CPU) and its metadata, atomically."""
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "model": name,
        "model_args": json.dumps(args, sort_keys=True),
        "preprocess": json.dumps(preprocess or {}, sort_keys=True),
        "training": json.dumps(training or {}, sort_keys=True),
        "metrics": json.dumps(metrics or {}, sort_keys=True),
        "lowlight_version": __version__,
    }
    atomic_write(Path(path), lambda tmp: save_file(state, tmp, metadata=metadata))
    return Path(path)


def read_metadata(path: Path) -> dict[str, Any]:
    """The decoded metadata of a weights file (JSON fields parsed)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise LowlightError(f"weights file not found: {path}; pass a .safetensors file written by "
                            "`lowlight train` (best.safetensors in the run folder)")
    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = fh.metadata() or {}
    except Exception as exc:  # safetensors raises several types for a bad header
        raise LowlightError(f"cannot read weights {path}: {str(exc).splitlines()[0] if str(exc) else exc}; "
                            "is it a .safetensors file?") from None
    if raw.get("format") != FORMAT or "model" not in raw:
        raise LowlightError(f"{path} is not a lowlight weights file (no lowlight metadata); "
                            "use a file written by `lowlight train`")
    meta: dict[str, Any] = dict(raw)
    for key in ("model_args", "preprocess", "training", "metrics"):
        meta[key] = json.loads(raw.get(key) or "{}")
    return meta


def load_weights(path: Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model a weights file describes, load its tensors, return ``(model in eval mode, metadata)``."""
    from safetensors.torch import load_file

    from ..models import create_model
    from ..models.registry import saved_args

    meta = read_metadata(path)
    model = create_model(meta["model"], **saved_args(meta["model"], meta["model_args"]))
    state = load_file(str(path), device=str(device))
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or wrong:
        example = (missing or unexpected or wrong)[0]
        raise LowlightError(f"{path} does not match model {meta['model']!r} {meta['model_args']}: "
                            f"{len(missing)} missing, {len(unexpected)} unexpected and {len(wrong)} "
                            f"mis-shaped tensors (e.g. {example}); was it written by another lowlight version?")
    model.load_state_dict(state)
    return model.to(device).eval(), meta


def open_torch(path: Path, device: str = "auto", threads: int | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """The PyTorch backend of :func:`lowlight.core.enhancer.load_model`: ``(network, metadata)``.
    ``threads`` sets PyTorch's process-wide CPU thread count."""
    from .device import pick_device

    if Path(path).suffix == ".onnx":
        raise LowlightError(f"{path} is an ONNX file; run it with --backend onnx (or drop --backend torch)")
    dev = pick_device(device)
    if threads:
        torch.set_num_threads(threads)
    return load_weights(path, dev)


def flush_denormals(t: torch.Tensor) -> torch.Tensor:
    """``t`` with its subnormal values (under ``finfo.tiny``, e.g. 1e-39 in fp32) set to zero.

    Some published files hold thousands of them (IAT's and Zero-DCE's); CPUs compute with them
    many times slower (`python bench/peer_checks.py` times both), and they change no output by
    a measurable amount."""
    if not t.is_floating_point():
        return t
    return torch.where(t.abs() < torch.finfo(t.dtype).tiny, torch.zeros_like(t), t)


def load_peer(name: str, path: Path, device: str = "auto", threads: int | None = None
              ) -> tuple[nn.Module, dict[str, Any]]:
    """A published model (a peer: ``iat``, ``sci``, ``zero-dce``, ``zero-dce++``) with the authors'
    own weights file, loaded unchanged: ``(network in eval mode, metadata)``.

    The file is read as plain tensors (``torch.load(weights_only=True)``: no code in it runs);
    parts only the authors' training uses are left out (the model's ``ignored_prefixes``). A file
    that is not this architecture's weights is one line naming what does not match."""
    from ..models import create_model, get_entry
    from .device import pick_device

    entry = get_entry(name)
    path = Path(path)
    if not path.is_file():
        raise LowlightError(f"weights not found: {path} (model {name} expects {entry.expects})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        why = "not a file of tensors saved by torch.save" if "weights_only" in str(exc) or "pickle" in str(exc).lower() \
            else (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise LowlightError(f"cannot read {path} as PyTorch weights ({why}); {name} expects {entry.expects}") from None
    for wrapper in ("state_dict", "model", "params"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise LowlightError(f"{path} holds no state dict of tensors; {name} expects {entry.expects}")
    model = create_model(name)
    skip = tuple(getattr(model, "ignored_prefixes", ()))
    state = {k.removeprefix("module."): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith(skip) or not skip}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} is {tuple(state[k].shape)}, not {tuple(own[k].shape)}" for k in own
             if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or wrong:
        what = (f"{len(missing)} of its {len(own)} tensors are missing (e.g. {missing[0]})" if missing else
                f"it has tensors {name} does not (e.g. {unexpected[0]})" if unexpected else
                f"shapes differ ({wrong[0]})")
        raise LowlightError(f"{path} is not {name} weights: {what}; {name} expects {entry.expects}")
    model.load_state_dict({k: flush_denormals(v) for k, v in state.items()})
    if threads:
        torch.set_num_threads(threads)
    meta = {"model": name, "model_args": {}, "preprocess": {}, "training": {"weights": path.name,
            "source": entry.expects}, "metrics": {}, "format": "peer", "lowlight_version": __version__}
    return model.to(pick_device(device)).eval(), meta
