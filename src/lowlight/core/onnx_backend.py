"""ONNX export and the ONNX Runtime backend: a network-like object for :class:`~lowlight.core.enhancer.Enhancer`.

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

from .. import __version__
from ..errors import LowlightError
from ..models.base import EnhancementNet
from ..models.common import crop_to, pad_to_multiple

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

    def __init__(self, net: EnhancementNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        return self.net.forward_padded(image, stats)


class _ImageOnly(_WithStats):
    """``image -> enhanced`` on padded inputs: the graph exported for every other model."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.net.forward_padded(image, None)


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


def export_onnx(net: EnhancementNet, meta: dict, source: Path | None = None, path: Path | None = None,
                opset: int | None = None) -> bytes:
    """The ONNX model of a torch network with its weights-file ``meta`` (model, model_args,
    preprocess) as bytes, also written atomically to ``path`` when given. ``source`` is the
    weights file (its digest goes into the metadata). Height and width are dynamic (multiples of
    ``multiple``)."""
    _require("onnxscript")
    onnx = _require("onnx")
    net = net.float().cpu().eval().to(memory_format=torch.contiguous_format)
    multiple = int(net.multiple)
    example = torch.rand(1, 3, 2 * multiple, 3 * multiple, generator=torch.Generator().manual_seed(0))
    stats = net.context_stats(example)
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
            raise LowlightError(f"could not export {meta['model']} to ONNX: {first}") from None
        model = onnx.load(str(target))
    stats_doc = (f"; stats: float32 (1, {stats.shape[1]}), the context_stats of {meta['model']} on the whole image"
                 if stats is not None else "")
    onnx.helper.set_model_props(model, {
        "lowlight_version": __version__,
        "model": meta["model"],
        "model_args": json.dumps(meta["model_args"], sort_keys=True),
        "gamma": json.dumps(meta.get("preprocess", {}).get("gamma")),
        "multiple": str(multiple),
        "inputs": "image: float32 (1, 3, H, W) RGB in [0, 1], H and W multiples of `multiple` "
                  "(pad bottom/right by reflection)" + stats_doc,
        "source_sha256": weights_digest(Path(source)) if source else "",
    })
    data = model.SerializeToString()
    if path is not None:
        from ..media.files import atomic_write

        atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(data))
    return data


class OnnxNet:
    """An ONNX Runtime session that behaves like the torch network inside an Enhancer (a
    :class:`~lowlight.models.base.Network`): called with ``(x, stats)`` on any size (it pads and
    crops), with ``context_stats`` and ``multiple``."""

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
        self._spec = None

    def context_stats(self, x: torch.Tensor) -> torch.Tensor | None:
        """The whole-image statistics the graph takes as its second input (None if it takes none),
        computed as the torch model computes them (they need no weights)."""
        if "stats" not in self.input_names:
            return None
        return self._spec_net().context_stats(x.float())

    @property
    def takes_brightness(self) -> bool:
        return "stats" in self.input_names and self._spec_net().takes_brightness

    def with_brightness(self, stats: torch.Tensor, x: torch.Tensor, level: float) -> torch.Tensor:
        return self._spec_net().with_brightness(stats, x, level)

    def _spec_net(self):
        """The torch model's own code, without its weights: what computes the graph's inputs."""
        if self._spec is None:
            from ..models import create_model
            from ..models.registry import saved_args

            with torch.device("meta"):
                self._spec = create_model(self.name, **saved_args(self.name, self.args))
        return self._spec

    def __call__(self, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        padded, size = pad_to_multiple(x.float().cpu().contiguous(), self.multiple)
        feeds = {"image": padded.numpy()}
        if "stats" in self.input_names:
            if stats is None:
                stats = self.context_stats(x)
            feeds["stats"] = stats.float().cpu().numpy()
        out = self.session.run(None, feeds)[0]
        return crop_to(torch.from_numpy(out), size)

    def weights_metadata(self) -> dict:
        """Its metadata in the shape of a weights file's (model, model_args, preprocess), plus the props."""
        return {**self.metadata, "model": self.name, "model_args": self.args, "preprocess": {"gamma": self.gamma}}


def open_onnx(path: Path, device: str = "auto", threads: int | None = None) -> tuple[OnnxNet, dict]:
    """The ONNX Runtime backend of :func:`lowlight.core.enhancer.load_model`: ``(network, metadata)``.

    An ``.onnx`` file runs as it is; ``.safetensors`` weights run as their shipped ``.onnx`` twin
    when it was exported from these very weights, else as an export made now (in memory, a few
    seconds)."""
    from .checkpoint import load_weights

    if device not in ("auto", "cpu"):
        raise LowlightError(f"the onnx backend runs on the CPU; drop --device {device} or use --backend torch")
    path = Path(path)
    if not path.is_file():
        raise LowlightError(f"{'ONNX' if path.suffix == '.onnx' else 'weights'} file not found: {path}")
    if path.suffix == ".onnx":
        net = OnnxNet(path, threads)
        return net, net.weights_metadata()
    twin = path.with_suffix(".onnx")
    if twin.is_file():
        net = OnnxNet(twin, threads)
        if net.metadata.get("source_sha256") == weights_digest(path):
            return net, net.weights_metadata()
    torch_net, meta = load_weights(path, "cpu")
    net = OnnxNet(export_onnx(torch_net, meta, path), threads)
    return net, net.weights_metadata()


__all__ = ["export_onnx", "open_onnx", "OnnxNet", "weights_digest"]
