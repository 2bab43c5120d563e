"""Running a model on images: one :class:`Enhancer` used by the Python API, the CLI, evaluation
and validation during training, so they cannot drift apart; :func:`enhance` is the public call
for any kind of image (path, PIL image, NumPy array, tensor) with strength, exposure and tiling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from ..color import apply_gamma
from ..errors import LowlightError
from ..media.photo import to_tensor
from ..models.base import Network
from .contract import EnhanceOptions, Enhances, ImageEnhancer, check_options, finish, process  # noqa: F401  (API)
from .device import pick_device  # noqa: F401  (part of this module's API)
from .tiling import DEFAULT_OVERLAP, run_tiled


@dataclass
class Enhancer(Enhances):
    """A network with its input pre-processing, behind the :class:`ImageEnhancer` contract
    (:meth:`process` runs it, :meth:`render` is its own part).

    ``gamma`` is the report's lookup-table brightening applied to the dark input before the
    network, exactly as in training. ``source`` is the weights file it was loaded from (None for
    a network built in memory). Stateless per call, so one Enhancer can serve many.
    """

    net: Network
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    gamma: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def device(self) -> torch.device:
        if isinstance(self.net, nn.Module):
            return next(self.net.parameters()).device
        return torch.device("cpu")  # ONNX Runtime sessions run on the CPU here

    @property
    def backend(self) -> str:
        """``torch`` or ``onnx``: what runs the network."""
        return "torch" if isinstance(self.net, nn.Module) else "onnx"

    #: A network takes a batch whole.
    batched = True

    def __repr__(self) -> str:
        from ..models import count_parameters

        params = f"{count_parameters(self.net) / 1e6:.2f}M parameters, " if isinstance(self.net, nn.Module) else ""
        return (f"Enhancer({self.name}, {params}{self.backend}, "
                f"weights={self.source.name if self.source else None})")

    @property
    def tiles(self) -> bool:
        """Whether the network may run in tiles (not one that sees the whole image, such as IAT's
        global branch: each tile would get its own gamma and colour)."""
        return bool(getattr(self.net, "tiles", True))

    @property
    def takes_brightness(self) -> bool:
        return bool(getattr(self.net, "takes_brightness", False))

    def _net_input(self, rgb: torch.Tensor) -> torch.Tensor:
        if self.gamma in (None, 1.0):
            return rgb
        # the report's uint8 lookup table, as in training
        as_uint8 = rgb.mul(255.0).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return torch.cat([to_tensor(apply_gamma(a, self.gamma)) for a in as_uint8])

    def render(self, rgb: torch.Tensor, options: EnhanceOptions) -> torch.Tensor:
        """The network's result for ``rgb`` ``(B, 3, H, W)`` in [0, 1]: its pre-processing, the
        whole-image context, the brightness target where asked, tiles where the image is large
        (one image at a time then: :func:`process` splits batches)."""
        net_input = self._net_input(rgb)
        with torch.inference_mode():
            stats = self.net.context_stats(net_input.to(self.device))
            if options.brightness is not None:
                stats = self.net.with_brightness(stats, net_input.to(self.device), options.brightness)

            def forward(x: torch.Tensor) -> torch.Tensor:
                return self.net(x.to(self.device, memory_format=torch.channels_last), stats)

            size = options.tile_size(*rgb.shape[-2:]) if self.tiles else None
            if size is None:
                return forward(net_input).float().cpu()
            return run_tiled(forward, net_input, size, options.overlap, self.net.multiple)


#: The model used when none is named: its weights ship inside the package (``lowlight/weights/``).
DEFAULT_MODEL = "curve-unet"


def bundled_weights(name: str) -> Path | None:
    """The packaged ``.safetensors`` file for the registered model ``name``, or None if it ships none."""
    from importlib.resources import files

    path = Path(str(files("lowlight") / "weights" / f"{name}.safetensors"))
    return path if path.is_file() else None


def pretrained_models() -> list[str]:
    """Registered models that ship pretrained weights in this version."""
    from ..models import list_models

    return [name for name in list_models() if bundled_weights(name) is not None]


#: Backends by name: the module and function that open a weights file as ``(network, metadata)``
#: (``open(path, device, threads)``), imported only when asked for.
BACKENDS = {"torch": ("lowlight.core.checkpoint", "open_torch"), "onnx": ("lowlight.core.onnx_backend", "open_onnx")}


#: Registered models whose weights live in the repository rather than the package.
REPOSITORY_WEIGHTS = {"gain-unet": "bench/weights/gain-unet-v1.safetensors"}


def resolve_weights(name_or_path: str | Path | None) -> Path:
    """The weights file for a path, a registered model's bundled weights, or the default model."""
    from ..models import get_entry

    name_or_path = DEFAULT_MODEL if name_or_path is None else name_or_path
    path = Path(name_or_path)
    if path.suffix.lower() in (".pth", ".pt"):
        from ..models import list_models
        from ..models.registry import get_entry as entry

        peers = [n for n in list_models() if entry(n).peer]
        raise LowlightError(f"{path.name} is a PyTorch weights file, as published models ship theirs: name the "
                            f"model it belongs to, e.g. --model iat --weights {path} (peers: {', '.join(peers)})")
    if path.suffix in (".safetensors", ".onnx") or path.exists():
        return path
    name = str(name_or_path)
    from ..models import list_models

    peers = [n for n in list_models() if get_entry(n).peer]
    loads = ", ".join(pretrained_models()) or "none"
    if name not in list_models():
        raise LowlightError(f"unknown model {name!r}; models with bundled weights: {loads}; published models, "
                            f"with their own file (--model NAME --weights FILE): {', '.join(peers)}; or a weights "
                            "file of your own with --weights (see `lowlight models`)")
    bundled = bundled_weights(name)
    if bundled is None:
        file = REPOSITORY_WEIGHTS.get(name)
        where = (f"its weights are in the repository, not the package: --weights {file}" if file else
                 f"train one with `lowlight train --model {name}` and pass --weights RUN_DIR/best.safetensors")
        raise LowlightError(f"model {name!r} ships no weights in the package (bundled: {loads}); {where}")
    return bundled


def load_model(name_or_path: str | Path | None = None, device: str = "auto", backend: str | None = None,
               threads: int | None = None, weights: str | Path | None = None) -> Enhancer:
    """Load a model once for many calls: a path to a ``.safetensors`` file from ``lowlight train``
    or an ``.onnx`` file from ``lowlight export``, the name of a registered model that ships
    pretrained weights, or None for the default model.

    A published model (a peer, ``lowlight models`` lists them) is named with the authors' file:
    ``load_model("iat", weights="best_Epoch_lol_v1.pth")``. ``weights`` with one of lowlight's
    own model names must hold that model. ``backend``: ``torch`` (the default) or ``onnx`` (ONNX
    Runtime on the CPU; ``.onnx`` files always run there). ``threads``: CPU threads (for torch
    this sets the process-wide count).
    """
    import importlib

    from ..models import get_entry, list_models

    name = str(name_or_path) if name_or_path is not None and str(name_or_path) in list_models() else None
    if name is not None and get_entry(name).peer:
        expects = get_entry(name).expects
        if weights is None:
            raise LowlightError(f"{name} is a published model whose weights lowlight does not bundle (they are the "
                                f"authors', under their licence): pass the file, --model {name} --weights FILE "
                                f"({expects})")
        if backend not in (None, "torch"):
            raise LowlightError(f"{name} runs with the torch backend; leave out --backend {backend}")
        from .checkpoint import load_peer

        net, meta = load_peer(name, Path(weights), device, threads)
        return Enhancer(net, name, {}, None, meta, Path(weights))
    if weights is not None:
        if name_or_path is not None and name is None:
            raise LowlightError(f"give a model name or a weights file, not two files ({name_or_path}, {weights})")
        loaded = load_model(weights, device=device, backend=backend, threads=threads)
        if name is not None and loaded.name != name:
            raise LowlightError(f"{weights} holds a {loaded.name} model, not {name}; leave out --model or pass "
                                f"{name} weights")
        return loaded
    path = resolve_weights(name_or_path)
    backend = backend or ("onnx" if path.suffix == ".onnx" else "torch")
    if backend not in BACKENDS:
        raise LowlightError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
    module, function = BACKENDS[backend]
    net, meta = getattr(importlib.import_module(module), function)(path, device, threads)
    return Enhancer(net, meta["model"], meta["model_args"], meta["preprocess"].get("gamma"), meta, path)


def open_enhancer(weights: str | None = None, model: str | None = None, method: str | None = None,
                  method_args: dict | None = None, device: str = "auto", backend: str | None = None,
                  threads: int | None = None):
    """What ``--weights``, ``--model`` (a peer with its ``--weights``) or ``--method`` (with
    ``--method-arg``) name, as an enhancer: a loaded model, or a classical method (both keep the
    :class:`ImageEnhancer` contract). The CLI and Ray actors use it."""
    if method and (weights or model):
        raise LowlightError("--method runs a classical method; leave out --model and --weights")
    if method:
        from .classical import make_method

        if backend:
            raise LowlightError("--backend applies to models, not to --method")
        return make_method(method, **(method_args or {}))
    if method_args:
        raise LowlightError("--method-arg applies to --method only")
    if threads is not None and threads < 1:
        raise LowlightError(f"--threads must be at least 1, got {threads}")
    if weights and model:
        return load_model(model, device=device, backend=backend, threads=threads, weights=weights)
    return load_model(weights or model, device=device, backend=backend, threads=threads)


_DEFAULT_CACHE: dict[str, Enhancer] = {}


def _resolve(model: Enhancer | str | Path | None, device: str) -> Enhancer:
    if isinstance(model, Enhancer):
        return model
    if model is None:  # the bundled default, loaded once per device
        if device not in _DEFAULT_CACHE:
            _DEFAULT_CACHE[device] = load_model(None, device=device)
        return _DEFAULT_CACHE[device]
    return load_model(model, device=device)


def enhance(image, model: Enhancer | str | Path | None = None, strength: float = 1.0,
            tile: int | None = None, *, overlap: int = DEFAULT_OVERLAP, exposure: float = 0.0,
            brightness: float | None = None, device: str = "auto", output: str | Path | None = None):
    """Enhance a dark photo and return the same kind of thing (a video: the path written).

    ``image``: a path (returns a PIL image carrying the file's ICC profile and EXIF), a PIL image
    (same mode back: L, LA, RGB, RGBA, I;16), a NumPy array ``(H, W)``, ``(H, W, 3)`` or
    ``(H, W, 4)`` of uint8, uint16 or float in [0, 1] (same shape and dtype back; alpha untouched),
    or a float tensor ``(3, H, W)`` / ``(B, 3, H, W)`` in [0, 1] (same shape, dtype and device).
    ``model``: None for the bundled default, a name, a ``.safetensors`` path or a loaded
    :func:`load_model`. ``strength`` 0..1 blends input to result; ``exposure`` adds stops of
    light in linear space; ``brightness`` asks a model that takes a target (curve-unet trained
    with exposure targets) for that output mean luma; ``tile`` as in :meth:`Enhancer.process`. A video path (``.mp4``,
    ``.mov``, ``.mkv``, ``.webm``) is enhanced into ``output`` (default: ``NAME_enhanced`` beside
    it, never over an existing file) and that path is returned; camera RAW paths read as 16 bits.
    """
    from ..media.photo import join_array, split_array

    options = EnhanceOptions(strength, exposure, tile, overlap, brightness)
    enhancer = _resolve(model, device)

    if isinstance(image, torch.Tensor):
        batch = image if image.dim() == 4 else image.unsqueeze(0)
        if batch.dim() != 4 or batch.shape[1] != 3:
            raise LowlightError(f"expected a tensor (3, H, W) or (B, 3, H, W), got {tuple(image.shape)}")
        outs = [enhancer.process(b[None].detach().float().cpu().clamp(0, 1), options) for b in batch]
        out = torch.cat(outs).to(image.device, image.dtype if image.is_floating_point() else torch.float32)
        return out if image.dim() == 4 else out[0]

    if isinstance(image, (str, Path)):
        from ..media.files import is_video_path
        from ..media.photo import read_photo, to_pil

        if is_video_path(Path(image)):
            from ..media.video import enhance_video

            source = Path(image)
            target = Path(output) if output else source.with_name(f"{source.stem}_enhanced{source.suffix}")
            if target.exists():
                raise LowlightError(f"{target} exists; pass output= another path (nothing is overwritten)")
            return enhance_video(enhancer, source, target, options)
        photo = read_photo(Path(image))
        return to_pil(enhance_photo(enhancer, photo, options))

    from PIL import Image

    if isinstance(image, Image.Image):
        from ..media.photo import from_pil, to_pil

        photo = from_pil(image)
        return to_pil(enhance_photo(enhancer, photo, options), mode=image.mode)

    if not isinstance(image, np.ndarray):
        raise LowlightError(f"enhance takes a path, a PIL image, a NumPy array (uint8, uint16 or float in [0, 1]) "
                            f"or a float tensor; got a {type(image).__name__} (wrap pixels in np.asarray(..., "
                            "dtype=np.uint8))")
    array = image
    photo = split_array(array)
    result = enhance_photo(enhancer, photo, options)
    channels = 1 if array.ndim == 2 else array.shape[2]
    return join_array(result, array.dtype, channels)


def enhance_photo(enhancer, photo, options: EnhanceOptions):
    """The enhanced copy of a :class:`lowlight.media.photo.Photo` (alpha and metadata carried over);
    ``enhancer``: anything with :meth:`Enhancer.process` (a classical method too)."""
    from dataclasses import replace

    x = torch.from_numpy(np.ascontiguousarray(photo.rgb)).permute(2, 0, 1).unsqueeze(0)
    out = enhancer.process(x, options)
    return replace(photo, rgb=out[0].permute(1, 2, 0).numpy())
