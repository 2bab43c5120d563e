"""Enhancing many files: which inputs (files, folders, globs), where each output goes, what to skip.

Planning is pure (paths in, a list of jobs out) and checked before any pixel is computed: no
output may be an input, no two inputs may share an output. Running reports each failure and
goes on, so one corrupt file never costs the rest of a folder.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import LowlightError
from ..media.files import IMAGE_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS, is_media_path, is_raw_path, is_video_path

#: Output extensions accepted by ``--ext`` for images (lower case, with the dot).
OUTPUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".avif")
#: What a camera RAW file becomes unless ``--ext`` says otherwise: 16 bits, lossless, and the
#: writer keeps EXIF and the ICC profile in it (16-bit TIFF keeps only the profile).
RAW_OUTPUT = ".png"
_INPUTS = ", ".join(IMAGE_EXTENSIONS + RAW_EXTENSIONS + VIDEO_EXTENSIONS)


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: ``done``, ``skipped`` (its output exists) or ``failed`` (``error`` says why)."""

    job: Job
    state: str
    error: str | None = None


@dataclass
class Summary:
    done: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[tuple[Job, str]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if outcome.state == "failed":
            self.failed.append((outcome.job, outcome.error or "failed"))
        else:
            (self.done if outcome.state == "done" else self.skipped).append(outcome.job)


def collect_inputs(items: list[str], recursive: bool = False) -> list[tuple[Path, Path]]:
    """``(file, base)`` for every image named by ``items``: files, folders (their images; with
    ``recursive`` also those of subfolders) or glob patterns. ``base`` is the folder an output
    folder mirrors (the named folder, or the file's own folder)."""
    found: list[tuple[Path, Path]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(p for p in path.glob(pattern) if p.is_file() and is_media_path(p)
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not files:
                raise LowlightError(f"no images in folder {path}{' (searched recursively)' if recursive else ''}; "
                                    f"expected {_INPUTS}")
            found.extend((f, path) for f in files)
        elif path.is_file():
            found.append((path, path.parent))
        elif glob.has_magic(item):
            files = sorted(Path(p) for p in glob.glob(item, recursive=recursive) if Path(p).is_file()
                           and is_media_path(Path(p)))
            if not files:
                raise LowlightError(f"no images match {item!r}")
            found.extend((f, f.parent) for f in files)
        else:
            raise LowlightError(f"input not found: {path}")
    unique, seen = [], set()
    for f, base in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((f, base))
    return unique


def normalise_ext(ext: str | None) -> str | None:
    """``"JPG"`` -> ``".jpg"``; None stays None; unknown formats are an error."""
    if not ext:
        return None
    ext = "." + ext.lower().lstrip(".")
    if ext not in OUTPUT_EXTENSIONS:
        raise LowlightError(f"unknown --ext {ext[1:]!r}; use png, jpg, webp, tif, bmp, heic or avif")
    return ext


def output_name(name: str, suffix: str = "", ext: str | None = None) -> str:
    """The file name an input called ``name`` is written as: its stem, ``suffix`` and ``ext``
    (a clip keeps its container; RAW becomes 16-bit PNG; other inputs keep a writable format)."""
    source = Path(name)
    if is_video_path(source):  # --ext is for images
        new_ext = source.suffix.lower()
    elif is_raw_path(source):
        new_ext = ext or RAW_OUTPUT
    else:
        new_ext = ext or (source.suffix.lower() if source.suffix.lower() in OUTPUT_EXTENSIONS else ".png")
    return f"{source.stem}{suffix}{new_ext}"


def plan(inputs: list[tuple[Path, Path]], output: Path | None, suffix: str = "", ext: str | None = None
         ) -> list[Job]:
    """One job per input. ``output``: None writes next to each input (a suffix is then required),
    a file name (one input only), or a folder that mirrors each input's place under its base.

    An input that is another input's output (``photo_enhanced.jpg`` beside ``photo.jpg``, from an
    earlier run in place) is not an input: re-running a folder skips or redoes its outputs.
    """
    if output is None and not suffix:
        raise LowlightError("writing next to the inputs needs a --suffix (e.g. --suffix _enhanced), "
                            "or pass -o FOLDER")
    writable = OUTPUT_EXTENSIONS + VIDEO_EXTENSIONS
    names_a_file = output is not None and output.suffix.lower() in writable and not output.is_dir()
    if names_a_file and len(inputs) > 1:
        raise LowlightError(f"-o {output} names one file, but {len(inputs)} inputs were given; "
                            "pass a folder to -o (it is created if missing)")
    if output is not None and output.exists() and not output.is_dir() and not names_a_file:
        raise LowlightError(f"-o {output} is a file, not a folder; choose a folder for the outputs")
    single_file = output is not None and len(inputs) == 1 and output.suffix != "" and not output.is_dir()

    def target(source: Path, base: Path) -> Path:
        video = is_video_path(source)
        if single_file:
            if video and not is_video_path(output):
                raise LowlightError(f"cannot write the video {source.name} to {output.name}: {output.suffix!r} is "
                                    f"not a video format; use {', '.join(VIDEO_EXTENSIONS)} (or pass a folder)")
            if not video and output.suffix.lower() not in OUTPUT_EXTENSIONS:
                what = "a video extension for an image" if is_video_path(output) else "unknown image extension"
                raise LowlightError(f"cannot write {output.name}: {what} {output.suffix!r}; use "
                                    f"{', '.join(OUTPUT_EXTENSIONS)} (or pass a folder)")
            return output
        folder = source.parent if output is None else output / source.parent.relative_to(base)
        return folder / output_name(source.name, suffix, ext)

    jobs = [Job(source, target(source, base)) for source, base in inputs]
    if suffix:  # drop inputs that are the outputs of other inputs
        produced = {job.target.resolve() for job in jobs}
        kept = [job for job in jobs if job.source.resolve() not in produced]
        jobs = kept or jobs
    sources = {job.source.resolve() for job in jobs}
    targets: dict[Path, Path] = {}
    for job in jobs:
        key = job.target.resolve()
        if key in sources:
            raise LowlightError(f"output {job.target} would overwrite an input; choose another -o folder "
                                "or a --suffix")
        if key in targets:
            raise LowlightError(f"{targets[key]} and {job.source} would both be written to {job.target}; "
                                "use --ext or separate output folders")
        targets[key] = job.source
    return jobs


def run_job(job: Job, work: Callable[[Job], None], overwrite: bool = False) -> Outcome:
    """Call ``work`` unless the target exists (and not ``overwrite``); a :class:`LowlightError`,
    OS or value error becomes a ``failed`` outcome instead of stopping the batch."""
    if job.target.exists() and not overwrite:
        return Outcome(job, "skipped")
    try:
        work(job)
    except (LowlightError, OSError, ValueError) as exc:
        return Outcome(job, "failed", str(exc))
    return Outcome(job, "done")


def run(jobs: Iterable[Job], work: Callable[[Job], None], overwrite: bool = False,
        on_done: Callable[[Outcome], None] | None = None) -> Summary:
    """:func:`run_job` for each job in turn; ``on_done`` hears each :class:`Outcome`."""
    summary = Summary()
    for job in jobs:
        outcome = run_job(job, work, overwrite)
        summary.add(outcome)
        if on_done is not None:
            on_done(outcome)
    return summary
