"""Speed of a model as users run it: size, cost, latency on one LOL-sized photo and throughput on
a 12-megapixel one, for each backend (PyTorch, ONNX Runtime), thread count and kind of scene.

Timings go through :meth:`lowlight.core.enhancer.Enhancer.process`, the path ``lowlight enhance``
takes (whole-image statistics, automatic tiling, clamping), on fixed synthetic images: a frame
under-exposed as a whole (``dark``) and a night with lamps (``night``), which the default model
gives more work (its very-dark stage runs only there); each is the median of repeated runs after
a warm-up run.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch

from ..errors import LowlightError


@dataclass
class BenchRow:
    """One backend at one thread count."""

    backend: str
    threads: int
    latency_ms: float        #: median, one 600x400 image (or the ``small`` size)
    large_s: float           #: median, one ``large`` image
    large_mp: float          #: megapixels of the large image
    megapixels_per_s: float
    scene: str = "dark"      #: which synthetic image (:data:`SCENES`)


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    if repeats < 1:
        raise LowlightError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dark_image(width: int, height: int, seed: int = 0) -> torch.Tensor:
    """A reproducible dark test image ``(1, 3, height, width)``: smooth gradients plus noise."""
    g = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, height)[:, None]
    xs = torch.linspace(0, 1, width)[None, :]
    base = torch.stack([0.02 + 0.1 * xs * ys, 0.03 + 0.08 * ys.expand(height, width),
                        0.02 + 0.06 * xs.expand(height, width)])
    return (base + 0.01 * torch.rand(3, height, width, generator=g)).clamp(0, 1)[None]


def night_image(width: int, height: int, seed: int = 0) -> torch.Tensor:
    """:func:`dark_image` with 21 warm lamps (Gaussian spots reaching white, radius 1/60 of the
    short side) in three rows over the upper part: a night exposed for its lights, the kind of
    frame the default model's very-dark stage acts on (:func:`lowlight.models.curve_unet.night_weight`)."""
    x = dark_image(width, height, seed)[0]
    ys, xs = torch.arange(height, dtype=torch.float32)[:, None], torch.arange(width, dtype=torch.float32)[None, :]
    radius = max(2.0, min(width, height) / 60)
    lamps = torch.zeros(height, width)
    for i in range(1, 8):
        for j in range(1, 4):
            cx, cy = width * i / 8, height * j * 0.15
            lamps = torch.maximum(lamps, torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius * radius)))
    return torch.maximum(x, torch.stack([lamps, 0.85 * lamps, 0.6 * lamps])).clamp(0, 1)[None]


#: The synthetic images the benchmark times, by name.
SCENES: dict[str, Callable[..., torch.Tensor]] = {"dark": dark_image, "night": night_image}


def machine() -> str:
    """One line naming the CPU, core count and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    parts = [cpu, f"{os.cpu_count()} logical cores", f"torch {torch.__version__}"]
    try:
        import onnxruntime

        parts.append(f"onnxruntime {onnxruntime.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def _loaded(model):
    """``model`` loaded on the CPU, unless it already is."""
    from ..core.enhancer import load_model

    return model if hasattr(model, "process") else load_model(model, device="cpu", backend="torch")


def run_benchmark(model=None, backends=("torch", "onnx"), threads=(1, 2), small=(600, 400),
                  large=(4000, 3000), repeats: int = 10, large_repeats: int = 3,
                  log: Callable[[str], None] = lambda _: None, scenes=("dark",)) -> list[BenchRow]:
    """Time ``model`` (None: the bundled default; a name, a weights path or a loaded model) for
    every backend, thread count and scene (:data:`SCENES`); ``small``/``large`` are ``(width,
    height)``. Restores torch's thread count. A published model runs with PyTorch only (its ONNX
    rows are left out)."""
    from ..core.enhancer import BACKENDS, load_model

    unknown = [s for s in scenes if s not in SCENES]
    if unknown or not scenes:
        raise LowlightError(f"unknown scene {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCENES)}")
    torch_model = _loaded(model)
    images = {s: (SCENES[s](*small), SCENES[s](*large, seed=1)) for s in scenes}
    rows, saved_threads = [], torch.get_num_threads()
    try:
        for backend in backends:
            for n in threads:
                if backend not in BACKENDS:
                    raise LowlightError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
                if backend != "torch" and torch_model.metadata.get("format") == "peer":
                    log(f"{backend}: skipped ({torch_model.name} is a published model; it runs with PyTorch)")
                    break
                torch.set_num_threads(n)  # for onnx: the statistics and blending around the graph
                enhancer = torch_model if backend == "torch" else \
                    load_model(torch_model.source, device="cpu", backend=backend, threads=n)
                for scene, (x_small, x_large) in images.items():
                    what = f"{backend}, {n} thread{'s' if n > 1 else ''}, {scene}"
                    log(f"{what}: {small[0]}x{small[1]} ...")
                    latency = median_time(lambda: enhancer.process(x_small), repeats)
                    log(f"{what}: {large[0]}x{large[1]} ...")
                    large_s = median_time(lambda: enhancer.process(x_large), large_repeats)
                    mp = large[0] * large[1] / 1e6
                    rows.append(BenchRow(backend, n, latency * 1000.0, large_s, mp, mp / large_s, scene))
    finally:
        torch.set_num_threads(saved_threads)
    return rows


def video_fps(model=None, sizes=((640, 360), (1280, 720)), frames: int = 48, threads: int = 2,
              log: Callable[[str], None] = lambda _: None) -> list[dict]:
    """Frames per second of ``lowlight enhance clip.mp4`` end to end (decode, enhance, H.264 encode)
    on a synthetic dark clip of ``frames`` frames at each ``(width, height)``, torch on the CPU."""
    import tempfile
    from pathlib import Path

    from ..core.enhancer import load_model
    from ..media.video import enhance_video, make_clip

    enhancer = _loaded(model)
    saved, rows = torch.get_num_threads(), []
    torch.set_num_threads(threads)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for width, height in sizes:
                log(f"video {width}x{height}, {frames} frames ...")
                base = dark_image(width + 2 * frames, height, seed=2)[0].permute(1, 2, 0)
                image = (base * 255).round().to(torch.uint8).numpy()
                clip = make_clip(Path(tmp) / f"in-{width}.mp4", image, frames, (width, height), fps=30,
                                 exposure=1.0, light=None, audio=False)
                target = Path(tmp) / f"out-{width}.mp4"
                start = time.perf_counter()
                enhance_video(enhancer, clip, target)
                seconds = time.perf_counter() - start
                rows.append({"width": width, "height": height, "frames": frames, "threads": threads,
                             "seconds": seconds, "fps": frames / seconds})
    finally:
        torch.set_num_threads(saved)
    return rows


def markdown_table(rows: list[BenchRow], small=(600, 400)) -> str:
    """The rows as a Markdown table."""
    if not rows:
        return ""
    mp = rows[0].large_mp
    lines = [f"| backend | threads | scene | {small[0]}x{small[1]} (ms) | {mp:.3g} MP (s) | MP/s |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.backend} | {r.threads} | {r.scene} | {r.latency_ms:.0f} | {r.large_s:.2f} "
                     f"| {r.megapixels_per_s:.2f} |")
    return "\n".join(lines)


def as_dicts(rows: list[BenchRow]) -> list[dict]:
    return [asdict(r) for r in rows]
