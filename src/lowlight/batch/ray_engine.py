"""Enhancing whole collections on a Ray cluster (``lowlight enhance --engine ray``): the same
plan as a local batch (:mod:`lowlight.batch.plan`), the same enhance path, on a pool of actors
that each load the model once; inputs and outputs may be local folders or ``s3://``, ``gs://``...
URIs (docs/SCALE.md).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from ..errors import LowlightError

def _is_uri(item: str) -> bool:
    return "://" in str(item)


@dataclass(frozen=True)
class RayJob:
    """One file to enhance: where it is read from and written to (local paths or URIs)."""

    source: str
    target: str


@dataclass
class RaySummary:
    """What a Ray run did: per-file outcomes, megapixels and the wall time of the enhancing."""

    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  #: ``(source, error)``
    megapixels: float = 0.0
    seconds: float = 0.0  #: from the first batch submitted to the last result (actor start-up included)

    @property
    def megapixels_per_s(self) -> float:
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0


def _filesystem(uri: str):
    """``(pyarrow filesystem, path inside it)`` for a local path or any URI pyarrow/fsspec understand."""
    import pyarrow.fs as pafs

    if not _is_uri(uri):
        return pafs.LocalFileSystem(), str(Path(uri).resolve())
    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception:  # schemes pyarrow lacks natively (gcsfs, adlfs, ...) through fsspec
        import fsspec

        fs, path = fsspec.core.url_to_fs(uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def plan_jobs(inputs: list[str], output: str, suffix: str = "", ext: str | None = None,
              recursive: bool = False, overwrite: bool = False) -> tuple[list[RayJob], list[RayJob]]:
    """``(to_do, skipped)`` jobs for ``inputs`` written under the folder ``output``, by the local
    rules (:mod:`lowlight.batch.plan`: same names, no input overwritten, no two inputs on one output);
    URIs are listed through pyarrow. Outputs that exist are skipped unless ``overwrite``."""
    from pathlib import PurePosixPath

    import pyarrow.fs as pafs

    from ..batch import plan as batch
    from ..media.files import is_media_path, is_video_path

    if not any(_is_uri(i) for i in inputs) and not _is_uri(output):
        jobs = batch.plan(batch.collect_inputs(inputs, recursive), Path(output), suffix, batch.normalise_ext(ext))
        pairs = [(str(j.source), str(j.target)) for j in jobs]
    else:
        out_fs, out_root = _filesystem(output)
        pairs = []
        for item in inputs:
            fs, path = _filesystem(item)
            info = fs.get_file_info(path)
            if info.type == pafs.FileType.Directory:
                found = fs.get_file_info(pafs.FileSelector(path, recursive=recursive))
                files = sorted(f.path for f in found if f.type == pafs.FileType.File and is_media_path(Path(f.path))
                               and not PurePosixPath(f.path).name.startswith("."))
                base = path
            elif info.type == pafs.FileType.File:
                files, base = [path], str(PurePosixPath(path).parent)
            else:
                raise LowlightError(f"input not found: {item}")
            scheme = item.split("://", 1)[0] + "://" if _is_uri(item) else ""
            for f in files:
                rel = PurePosixPath(f).relative_to(base)
                name = batch.output_name(rel.name, suffix, batch.normalise_ext(ext))
                target = str(PurePosixPath(out_root) / rel.parent / name)
                out_scheme = output.split("://", 1)[0] + "://" if _is_uri(output) else ""
                pairs.append((scheme + f, out_scheme + target))
        sources = {s for s, _ in pairs}
        seen: dict[str, str] = {}
        for s, t in pairs:
            if t in sources:
                raise LowlightError(f"output {t} would overwrite an input; choose another output folder")
            if t in seen:
                raise LowlightError(f"{seen[t]} and {s} would both be written to {t}; use --ext")
            seen[t] = s
    videos = [s for s, _ in pairs if is_video_path(Path(s))]
    if videos:
        raise LowlightError(f"{videos[0]} is a video; --engine ray enhances images (leave out --engine ray "
                            "for video files)")
    existing = set() if overwrite else _existing(output)
    todo, skipped = [], []
    for s, t in pairs:
        (skipped if _filesystem(t)[1] in existing else todo).append(RayJob(s, t))
    return todo, skipped


def _existing(output: str) -> set[str]:
    """Every file under ``output``, in one recursive listing (one request per 1000 keys on an
    object store, instead of one per planned output)."""
    import pyarrow.fs as pafs

    fs, root = _filesystem(output)
    found = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return {f.path for f in found if f.type == pafs.FileType.File}


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
        from ..media.files import atomic_write, first_line
        from ..core.enhancer import enhance_photo
        from ..media.photo import decode_photo, encode_photo, read_photo

        try:
            if _is_uri(source):
                fs, path = _filesystem(source)
                with fs.open_input_stream(path) as fh:
                    photo = decode_photo(fh.read(), max_pixels=self.max_pixels, name=source)
            else:
                photo = read_photo(Path(source), max_pixels=self.max_pixels, raw_exposure=self.raw_exposure)
            data = encode_photo(enhance_photo(self.enhancer, photo, self.options), Path(target).suffix,
                                self.quality, name=Path(target).name)
            if _is_uri(target):
                fs, path = _filesystem(target)
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
                    actor: type = None) -> RaySummary:
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

    try:
        import ray
    except ImportError:
        from ..media.files import missing_extra

        raise missing_extra("--engine ray", "ray", "ray[data]") from None
    actor = actor or EnhanceActor
    if batch_size < 1:
        raise LowlightError(f"--batch-size must be at least 1, got {batch_size}")
    if actors is not None and actors < 1:
        raise LowlightError(f"--actors must be at least 1, got {actors}")
    EnhanceOptions(**(options or {}))  # checked before a cluster is started
    todo, skipped = plan_jobs(inputs, output, suffix, ext, recursive, overwrite)
    summary = RaySummary(skipped=[j.source for j in skipped])
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
        ds = ray.data.from_items([{"source": j.source, "target": j.target} for j in todo], override_num_blocks=blocks)
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
            if row["state"] == "done":
                summary.done.append(str(row["source"]))
                summary.megapixels += float(row["megapixels"])
            else:
                summary.failed.append((str(row["source"]), str(row["error"])))
            if on_result is not None:
                on_result(row)
        summary.seconds = time.perf_counter() - start
    finally:
        if started:
            ray.shutdown()
    return summary
