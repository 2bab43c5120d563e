"""ONNX export and an ONNX Runtime backend that plugs into :class:`~lowlight.inference.Enhancer`.

The exported graph is the network on an input whose sides are multiples of the model's
``multiple`` (padding and cropping stay outside, as tiling needs), plus, for models conditioned
on whole-image statistics, those statistics as a second input: they are computed once on the
full image, so ONNX tiles agree exactly as PyTorch tiles do. Everything a runner needs to know
(model, arguments, gamma, multiple, inputs) is written into the file's metadata.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import tempfile
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from . import __version__
from .errors import LowlightError
from .models.common import crop_to, pad_to_multiple

#: Install hint for the optional dependencies.
ONNX_EXTRA = "pip install 'lowlight[onnx]'"


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise LowlightError(f"the ONNX backend needs the {module} package; {ONNX_EXTRA}") from None


class _WithStats(nn.Module):
    """``(image, stats) -> enhanced`` on padded inputs: the graph exported for context models."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        return self.net.forward_padded(image, stats)


class _ImageOnly(nn.Module):
    """``image -> enhanced`` on padded inputs: the graph exported for every other model."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        run = getattr(self.net, "forward_padded", None)
        return run(image, None) if run is not None else self.net(image)


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter narrates every step and warns about optional packages we never use."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def weights_digest(path: Path) -> str:
    """SHA-256 of a weights file: ties an exported ONNX file to the weights it came from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_onnx(enhancer, path: Path | None = None, opset: int | None = None) -> bytes:
    """The ONNX model of a torch :class:`~lowlight.inference.Enhancer` as bytes, also written
    atomically to ``path`` when given. Height and width are dynamic (multiples of ``multiple``)."""
    _require("onnxscript")
    onnx = _require("onnx")
    net = enhancer.net.float().cpu().eval().to(memory_format=torch.contiguous_format)
    multiple = int(getattr(net, "multiple", 16))
    stats_fn = getattr(net, "context_stats", None)
    example = torch.rand(1, 3, 2 * multiple, 3 * multiple, generator=torch.Generator().manual_seed(0))
    stats = stats_fn(example) if stats_fn is not None else None
    rows = multiple * torch.export.Dim("rows", min=1, max=65536 // multiple)
    cols = multiple * torch.export.Dim("cols", min=1, max=65536 // multiple)
    if stats is not None:
        wrapper, inputs, names = _WithStats(net), (example, stats), ["image", "stats"]
        shapes = {"image": {2: rows, 3: cols}, "stats": None}
    else:
        wrapper, inputs, names = _ImageOnly(net), (example,), ["image"]
        shapes = {"image": {2: rows, 3: cols}}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.onnx"
        try:
            with _quiet_exporter():
                torch.onnx.export(wrapper.eval(), inputs, str(target), input_names=names,
                                  output_names=["enhanced"], dynamic_shapes=shapes, dynamo=True,
                                  external_data=False, opset_version=opset)
        except Exception as exc:  # the exporter raises many types; one line says which model failed
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise LowlightError(f"could not export {enhancer.name} to ONNX: {first}") from None
        model = onnx.load(str(target))
    source = enhancer.metadata.get("_path")
    stats_doc = ("; stats: float32 (1, 8), lowlight.models.gain_unet.image_statistics of the whole image"
                 if stats is not None else "")
    onnx.helper.set_model_props(model, {
        "lowlight_version": __version__,
        "model": enhancer.name,
        "model_args": json.dumps(enhancer.args, sort_keys=True),
        "gamma": json.dumps(enhancer.gamma),
        "multiple": str(multiple),
        "inputs": "image: float32 (1, 3, H, W) RGB in [0, 1], H and W multiples of `multiple` "
                  "(pad bottom/right by reflection)" + stats_doc,
        "source_sha256": weights_digest(Path(source)) if source else "",
    })
    data = model.SerializeToString()
    if path is not None:
        from .io import atomic_write

        atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(data))
    return data


class OnnxNet:
    """An ONNX Runtime session that behaves like the torch network inside an Enhancer: called
    with ``(x, stats)`` on any size (it pads and crops), with ``context_stats`` and ``multiple``."""

    def __init__(self, model: bytes | str | Path, threads: int | None = None):
        ort = _require("onnxruntime")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.source = model  #: the file or bytes it was loaded from
        source = model if isinstance(model, bytes) else str(model)
        try:
            self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            where = "" if isinstance(model, bytes) else f"{model}: "
            raise LowlightError(f"{where}not a loadable ONNX model ({str(exc).splitlines()[0][:200]})") from None
        props = dict(self.session.get_modelmeta().custom_metadata_map)
        if "model" not in props:
            raise LowlightError(f"{model}: an ONNX file without lowlight metadata; export it with "
                                "`lowlight export --onnx FILE`")
        self.metadata = props
        self.name = props["model"]
        self.args = json.loads(props.get("model_args", "{}"))
        self.gamma = json.loads(props.get("gamma", "null"))
        self.multiple = int(props.get("multiple", "16"))
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.device = torch.device("cpu")
        self._spec = None

    def context_stats(self, x: torch.Tensor) -> torch.Tensor | None:
        """The whole-image statistics the graph takes as its second input (None if it takes none),
        computed as the torch model computes them (they need no weights)."""
        if "stats" not in self.input_names:
            return None
        if self._spec is None:
            from .models import create_model

            with torch.device("meta"):  # the model's own code, without allocating its weights
                self._spec = create_model(self.name, **self.args)
        return self._spec.context_stats(x.float())

    def __call__(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        padded, size = pad_to_multiple(x.float().cpu().contiguous(), self.multiple)
        feeds = {"image": padded.numpy()}
        if "stats" in self.input_names:
            if stats is None:
                stats = self.context_stats(x)
            feeds["stats"] = stats.float().cpu().numpy()
        out = self.session.run(None, feeds)[0]
        return crop_to(torch.from_numpy(out), size)


def load_onnx(model: bytes | str | Path, threads: int | None = None, metadata: dict | None = None):
    """An :class:`~lowlight.inference.Enhancer` that runs ``model`` (a file or bytes) with ONNX Runtime."""
    from .inference import Enhancer

    if not isinstance(model, bytes) and not Path(model).is_file():
        raise LowlightError(f"ONNX file not found: {model}")
    net = OnnxNet(model, threads)
    return Enhancer(net, net.name, net.args, net.gamma, {**net.metadata, **(metadata or {})})


def to_onnx(enhancer, threads: int | None = None):
    """The ONNX Runtime twin of a torch Enhancer: the bundled ``.onnx`` when it was exported from
    these very weights, else an export made now (in memory, a few seconds)."""
    from .inference import Enhancer

    source = enhancer.metadata.get("_path")
    if source:
        shipped = Path(source).with_suffix(".onnx")
        if shipped.is_file():
            twin = OnnxNet(shipped, threads)
            if twin.metadata.get("source_sha256") == weights_digest(Path(source)):
                return Enhancer(twin, twin.name, twin.args, twin.gamma, {**twin.metadata, "_path": source})
    return load_onnx(export_onnx(enhancer), threads, {"_path": source or ""})


__all__ = ["export_onnx", "load_onnx", "to_onnx", "OnnxNet", "weights_digest"]
