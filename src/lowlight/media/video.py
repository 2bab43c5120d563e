"""Video clips (MP4, MOV, MKV, WebM) through PyAV: decode, enhance in batches of frames, encode.

Frames stream through: at most ``batch`` decoded frames are held at a time, so memory does not
grow with the clip's length. Frame rate, size, timestamps and the display rotation are kept and
every audio stream is copied packet for packet (not re-encoded).

Temporal stability: each frame's brightness is set by its whole-image context (statistics and
thumbnail), which noise makes wobble from frame to frame. Averaging the context itself over time
was tried during development and rejected: an averaged thumbnail is cleaner than any real
frame, and the model brightened it more (about 5% within 8 frames of a steady clip). Instead each frame is
enhanced as it is, and how much it was brightened (the log ratio of output to input mean luma)
is an exponential moving average with a time constant of ``smoothing`` seconds (0.5 by default,
0 turns it off); each frame is rescaled to the smoothed ratio. A light switched on is followed
within about a second; noise is averaged out; it works for any model or classical method.
Optional: ``pip install 'lowlight[video]'``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import LowlightError, require
from .files import atomic_write, first_line

#: Container format by extension, and the encoder used unless one is named.
CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
DEFAULT_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}


@dataclass(frozen=True)
class VideoOptions:
    """How to encode: ``codec`` (None: H.264, VP9 for WebM), ``crf`` (quality, lower is better:
    18 is visually lossless for H.264), frames per ``batch``, context ``smoothing`` in seconds."""

    codec: str | None = None
    crf: int = 18
    batch: int = 8
    smoothing: float = 0.5

    def __post_init__(self):
        if not 0 <= self.crf <= 63:
            raise LowlightError(f"--crf must be between 0 and 63, got {self.crf}")
        if self.batch < 1:
            raise LowlightError(f"video batch must be at least 1 frame, got {self.batch}")
        if self.smoothing < 0:
            raise LowlightError(f"smoothing must be 0 or more seconds, got {self.smoothing:g}")


def _av():
    return require("av", "enhancing video", "video", "av (PyAV)")


def smoothing_weight(seconds: float, fps: float) -> float:
    """The weight of a new frame in the moving average: 1 - exp(-1 / (fps * seconds)); 1 turns it off."""
    if seconds <= 0 or fps <= 0:
        return 1.0
    return 1.0 - math.exp(-1.0 / (fps * seconds))


class BrightnessSmoother:
    """Steadies how much each frame is brightened: the ratio of output to input mean luma (in
    log) follows an exponential moving average over frames, and each output frame is scaled by
    the smoothed ratio over its own (hue kept: no channel passes white)."""

    def __init__(self, weight: float):
        self.weight, self.state = weight, None

    def __call__(self, inputs, outputs):
        """``inputs`` and the network's ``outputs`` ``(B, 3, H, W)`` in frame order; returns the steadied outputs."""
        import torch

        from ..color import luma

        if self.weight >= 1.0:
            return outputs
        eps = 1e-3
        ratio = (torch.log(luma(outputs, axis=1).mean((1, 2)) + eps)
                 - torch.log(luma(inputs, axis=1).mean((1, 2)) + eps))
        scale = torch.empty_like(ratio)
        for i, r in enumerate(ratio):
            self.state = r if self.state is None else self.state + self.weight * (r - self.state)
            scale[i] = torch.exp(self.state - r)
        out = outputs * scale.view(-1, 1, 1, 1)
        return out / out.amax(dim=1, keepdim=True).clamp_min(1.0)


def check_codec(codec: str) -> str:
    """``codec`` if this FFmpeg build can encode with it, else a one-line error (checked up front)."""
    try:
        _av().codec.Codec(codec, "w")
    except LowlightError:
        raise
    except Exception:
        raise LowlightError(f"unknown video encoder {codec!r}; try libx264, libx265, libvpx-vp9 or libsvtav1") from None
    return codec


def _encoder_options(codec: str, crf: int) -> dict[str, str]:
    if codec in ("libx264", "libx265"):
        return {"crf": str(crf), "preset": "medium"}
    if codec == "libvpx-vp9":
        return {"crf": str(crf), "b": "0", "row-mt": "1"}
    if codec == "libsvtav1":
        return {"crf": str(crf)}
    return {}


def _open_input(av, source: Path):
    try:
        container = av.open(str(source))
    except FileNotFoundError:
        raise LowlightError(f"video not found: {source}") from None
    except Exception as exc:  # PyAV raises its own error types for unreadable containers
        raise LowlightError(f"cannot read video {source}: {first_line(exc)}; check that it is a complete "
                            "MP4, MOV, MKV or WebM file") from None
    if not container.streams.video:
        container.close()
        raise LowlightError(f"{source} has no video stream")
    return container


def _rotation(av, source: Path) -> float:
    """The display rotation of the clip's first frame, in degrees (0 when it has none)."""
    with _open_input(av, source) as container:
        for frame in container.decode(video=0):
            return float(getattr(frame, "rotation", 0) or 0)
    return 0.0


#: Audio codecs each container can carry as they are; other audio is left out, with a note.
AUDIO_CODECS = {".webm": ("opus", "vorbis")}


def enhance_video(enhancer, source: Path, target: Path, options=None, video: VideoOptions | None = None,
                  progress: bool = False, on_frames: Callable[[int], None] | None = None,
                  on_note: Callable[[str], None] | None = None) -> Path:
    """Enhance the clip ``source`` into ``target`` (written atomically; the container follows its
    extension); returns ``target``. ``enhancer``: anything with the ``process(rgb, options)`` of
    :class:`lowlight.core.contract.ImageEnhancer` (which splits batches it cannot take whole),
    ``options`` its :class:`~lowlight.core.contract.EnhanceOptions` (None: the defaults)."""
    import torch

    from ..progress import counter
    from .photo import to_tensor

    av = _av()
    source, target = Path(source), Path(target)
    video = video or VideoOptions()
    ext = target.suffix.lower()
    if ext not in CONTAINERS:
        raise LowlightError(f"cannot write video {target.name}: use {', '.join(CONTAINERS)}")
    codec = check_codec(video.codec or DEFAULT_CODECS[ext])

    container = _open_input(av, source)
    try:
        vin = container.streams.video[0]
        audio = list(container.streams.audio)
        fits = AUDIO_CODECS.get(ext)
        if fits and any(a.codec_context.name not in fits for a in audio):
            dropped = ", ".join(sorted({a.codec_context.name for a in audio if a.codec_context.name not in fits}))
            audio = [a for a in audio if a.codec_context.name in fits]
            if on_note is not None:
                on_note(f"{target.name}: {ext[1:].upper()} cannot carry {dropped} audio, so the sound was left "
                        f"out; write .mp4 or .mkv to keep it")
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        smoother = BrightnessSmoother(smoothing_weight(video.smoothing, float(rate)))
        total = vin.frames or None
        rotation = _rotation(av, source)

        def write(tmp: str) -> None:
            with av.open(tmp, "w", format=CONTAINERS[ext]) as out:
                vout = out.add_stream(codec, rate=rate, options=_encoder_options(codec, video.crf))
                vout.width, vout.height = vin.codec_context.width, vin.codec_context.height
                vout.pix_fmt = "yuv420p"
                vout.time_base = vin.time_base
                vout.codec_context.time_base = vin.time_base
                if rotation:
                    vout.set_display_rotation(rotation)
                aout = {a.index: out.add_stream_from_template(a) for a in audio}
                pending: list = []
                bar = counter(total, progress, desc=source.name, unit="frame")

                def flush() -> None:
                    if not pending:
                        return
                    frames = [f.to_ndarray(format="rgb24") for f in pending]
                    batch = torch.cat([to_tensor(a) for a in frames])
                    result = enhancer.process(batch, options)
                    result = smoother(batch, result)
                    pixels = result.mul(255.0).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()
                    for src, arr in zip(pending, pixels):
                        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
                        frame.pts, frame.time_base = src.pts, src.time_base
                        for packet in vout.encode(frame):
                            out.mux(packet)
                    bar.update(len(pending))
                    if on_frames is not None:
                        on_frames(len(pending))
                    pending.clear()

                for packet in container.demux(vin, *audio):
                    if packet.stream.type == "audio":
                        if packet.dts is None:
                            continue
                        packet.stream = aout[packet.stream.index]
                        out.mux(packet)
                        continue
                    for frame in packet.decode():
                        pending.append(frame)
                        if len(pending) >= video.batch:
                            flush()
                flush()
                for packet in vout.encode(None):
                    out.mux(packet)
                bar.close()

        try:
            atomic_write(target, write)
        except LowlightError:
            raise
        except Exception as exc:  # a decode error mid-clip: the partial output is discarded
            raise LowlightError(f"cannot enhance video {source}: {first_line(exc)}") from None
    finally:
        container.close()
    return target


def frame_lumas(path: Path) -> np.ndarray:
    """The mean luma (0..1) of every frame of a clip, in order: what :func:`lowlight.research.metrics.flicker` takes."""
    from ..color import luma

    av = _av()
    with _open_input(av, Path(path)) as container:
        return np.array([float(luma(f.to_ndarray(format="rgb24").astype(np.float32) / 255.0).mean())
                         for f in container.decode(video=0)])


def make_clip(path: Path, image: np.ndarray, frames: int = 24, size: tuple[int, int] = (96, 64), fps: int = 12,
              exposure: float = 0.12, noise: float = 0.01, light: tuple[int, int] | None = (8, 12),
              rotation: float = 0, audio: bool = True, seed: int = 0) -> Path:
    """A synthetic dark clip for tests and benchmarks: a slow pan (2 pixels a frame) across the uint8
    RGB ``image``, scaled by ``exposure`` with Gaussian ``noise``, brighter (x2.5, a light switched
    on) on frames ``light[0]`` to ``light[1] - 1``, with an optional sine-tone audio track."""
    av = _av()
    rng = np.random.default_rng(seed)
    width, height = size
    img = image.astype(np.float32) / 255.0
    if img.shape[0] < height or img.shape[1] < width + 2 * frames:
        raise LowlightError(f"make_clip needs an image of at least {width + 2 * frames}x{height}")
    with av.open(str(path), "w") as out:
        vout = out.add_stream("libx264", rate=fps, options={"crf": "10"})
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        if rotation:
            vout.set_display_rotation(rotation)
        aout = out.add_stream("aac", rate=16000) if audio else None
        for i in range(frames):
            lit = 2.5 if light and light[0] <= i < light[1] else 1.0
            frame = img[:height, 2 * i:2 * i + width] * exposure * lit
            frame = np.clip(frame + rng.normal(0.0, noise, frame.shape), 0.0, 1.0)
            for packet in vout.encode(av.VideoFrame.from_ndarray(np.round(frame * 255).astype(np.uint8), format="rgb24")):
                out.mux(packet)
        for packet in vout.encode(None):
            out.mux(packet)
        if aout is not None:
            samples = int(16000 * frames / fps)
            tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024].copy(), format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 16000, start
                for packet in aout.encode(chunk):
                    out.mux(packet)
            for packet in aout.encode(None):
                out.mux(packet)
    return Path(path)
