"""Enhancing whole collections on a Ray cluster (``lowlight enhance --engine ray``): the same
plan as a local batch (:mod:`lowlight.batch.plan`), the same enhance path, on a pool of actors
that each load the model once; inputs and outputs may be local folders or ``s3://``, ``gs://``...
URIs (docs/SCALE.md).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Callable

import torch

from ..errors import LowlightError
from ..media.files import is_video_path
from .plan import Job, Summary, existing_outputs, filesystem, is_uri, location_str, plan_inputs

def plan_jobs(inputs: list[str], output: str, suffix: str = "", ext: str | None = None,
              recursive: bool = False, overwrite: bool = False) -> tuple[list[Job], list[Job]]:
    """``(to_do, skipped)`` jobs for ``inputs`` written under the folder ``output``: the local
    batch's own plan (:func:`lowlight.batch.plan.plan_inputs`, paths or URIs alike); outputs that
    exist are skipped unless ``overwrite``, found in one listing of ``output``."""
    jobs = plan_inputs(inputs, output, suffix, ext, recursive)
    videos = [j.source for j in jobs if is_video_path(Path(j.source.name))]
    if videos:
        raise LowlightError(f"{location_str(videos[0])} is a video; --engine ray enhances images (leave out "
                            "--engine ray for video files)")
    existing = set() if overwrite else existing_outputs(output)
    todo, skipped = [], []
    for job in jobs:
        (skipped if location_str(job.target) in existing else todo).append(job)
    return todo, skipped


class EnhanceActor:
    """A Ray actor that loads the model once and enhances batches of files, writing each output
    (atomically on local disks) and answering one row per file: done or failed with why."""

    def __init__(self, spec: dict, options: dict, quality: int, max_pixels: int | None, raw_exposure: float,
                 threads: int | None):
        from ..core.enhancer import EnhanceOptions, open_enhancer

        if threads:
            torch.set_num_threads(threads)
        self.enhancer = open_enhancer(**spec)
        self.options = EnhanceOptions(**options)
        self.quality, self.max_pixels, self.raw_exposure = quality, max_pixels, raw_exposure

    def _one(self, source: str, target: str) -> tuple[str, str, float]:
        from ..core.enhancer import enhance_photo
        from ..media.files import atomic_write, first_line
        from ..media.photo import decode_photo, encode_photo, read_photo

        try:
            if is_uri(source):  # every format and RAW development, as for a local file
                fs, path = filesystem(source)
                with fs.open_input_stream(path) as fh:
                    photo = decode_photo(fh.read(), max_pixels=self.max_pixels, name=source,
                                         raw_exposure=self.raw_exposure)
            else:
                photo = read_photo(Path(source), max_pixels=self.max_pixels, raw_exposure=self.raw_exposure)
            data = encode_photo(enhance_photo(self.enhancer, photo, self.options), Path(target).suffix,
                                self.quality, name=Path(target).name)
            if is_uri(target):
                fs, path = filesystem(target)
                fs.create_dir(path.rsplit("/", 1)[0], recursive=True)  # a no-op on object stores
                with fs.open_output_stream(path) as fh:  # object stores publish a file whole, on close
                    fh.write(data)
            else:
                atomic_write(Path(target), lambda tmp: Path(tmp).write_bytes(data))
        except (LowlightError, OSError, ValueError) as exc:
            return "failed", first_line(exc), 0.0
        return "done", "", photo.rgb.shape[0] * photo.rgb.shape[1] / 1e6

    def __call__(self, rows: dict) -> dict:
        results = [self._one(s, t) for s, t in zip(rows["source"], rows["target"])]
        return {"source": list(rows["source"]), "target": list(rows["target"]),
                "state": [r[0] for r in results], "error": [r[1] for r in results],
                "megapixels": [r[2] for r in results]}


def enhance_dataset(inputs: list[str], output: str, *, spec: dict | None = None, options: dict | None = None,
                    address: str | None = None, actors: int | None = None, batch_size: int = 4,
                    suffix: str = "", ext: str | None = None, recursive: bool = False, overwrite: bool = False,
                    quality: int = 95, max_pixels: int | None = None, raw_exposure: float = 0.0,
                    progress: bool = False, on_result: Callable[[dict], None] | None = None,
                    actor: type = None) -> Summary:
    """Enhance files or folders (local or ``s3://``, ``gs://``, ...) into ``output`` on a Ray cluster.

    ``address``: a running cluster (``auto``, ``ray://HOST:10001``); None starts a local Ray on this
    machine and shuts it down after. ``actors`` model replicas (default: one per CPU, or per GPU
    where the cluster has GPUs), each fed ``batch_size`` files at a time. ``spec`` names the
    model as :func:`lowlight.core.enhancer.open_enhancer` takes it (None: the bundled default),
    ``options`` the :class:`~lowlight.core.enhancer.EnhanceOptions` fields. A file that fails is
    listed and the rest go on; existing outputs are skipped, so a rerun does only what is missing.
    ``actor``: the actor class (:class:`EnhanceActor`, or a subclass of it).
    """
    import time

    from ..media.files import quiet_stderr
    from ..core.enhancer import EnhanceOptions

    from ..errors import require

    ray = require("ray", "--engine ray", "ray", "ray[data]")
    actor = actor or EnhanceActor
    if batch_size < 1:
        raise LowlightError(f"--batch-size must be at least 1, got {batch_size}")
    if actors is not None and actors < 1:
        raise LowlightError(f"--actors must be at least 1, got {actors}")
    EnhanceOptions(**(options or {}))  # checked before a cluster is started
    todo, skipped = plan_jobs(inputs, output, suffix, ext, recursive, overwrite)
    summary = Summary(skipped=skipped)
    by_source = {location_str(j.source): j for j in todo}
    if not todo:
        return summary
    started = not ray.is_initialized()
    if started:
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # no C++ log lines among ours
        try:
            with quiet_stderr():
                ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        except Exception as exc:
            raise LowlightError(f"cannot start or reach Ray{f' at {address}' if address else ''}: "
                                f"{str(exc).splitlines()[0]}") from None
    try:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        count = actors or max(1, gpus or int(resources.get("CPU", 1)))
        cpus = 1 if gpus else max(1, int(resources.get("CPU", 1)) // count)
        spec = dict(spec or {})
        spec.setdefault("device", "cuda" if gpus else "cpu")
        ctx = ray.data.DataContext.get_current()
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # the summary says what happened
        ctx.enable_progress_bars = progress
        blocks = min(len(todo), max(count, -(-len(todo) // batch_size)))  # enough for every actor
        ds = ray.data.from_items([{"source": location_str(j.source), "target": location_str(j.target)} for j in todo],
                                 override_num_blocks=blocks)
        with warnings.catch_warnings():  # max_restarts has no named parameter yet; Ray warns about the old one
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
            ds = ds.map_batches(
                actor, batch_size=batch_size, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=count), num_cpus=cpus, num_gpus=1 if gpus else 0,
                fn_constructor_kwargs=dict(spec=spec, options=options or {}, quality=quality, max_pixels=max_pixels,
                                           raw_exposure=raw_exposure, threads=None if gpus else cpus),
                max_restarts=3, max_task_retries=3)  # a lost actor is replaced and its batch retried, 3 times at most
        start = time.perf_counter()
        for row in ds.iter_rows():
            job = by_source[str(row["source"])]
            if row["state"] == "done":
                summary.done.append(job)
                summary.megapixels += float(row["megapixels"])
            else:
                summary.failed.append((job, str(row["error"])))
            if on_result is not None:
                on_result(row)
        summary.seconds = time.perf_counter() - start
    finally:
        if started:
            ray.shutdown()
    return summary
