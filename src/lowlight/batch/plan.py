"""Enhancing many files: which inputs (files, folders, globs), where each output goes, what to skip.

One planner for the local batch and the Ray engine alike: inputs and outputs may be local paths
or URIs (``s3://``, ``gs://``, ``file://``...; listed through pyarrow, which ``lowlight[ray]``
brings). Planning is checked before any pixel is computed: no output may be an input, no two
inputs may share an output, hidden files and earlier outputs are not inputs. Running reports each
failure and goes on, so one corrupt file never costs the rest of a folder; :class:`Summary` and
its :meth:`~Summary.exit_code` are what both engines report.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Callable, Iterable, Union

from ..errors import LowlightError
from ..media.files import IMAGE_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS, is_media_path, is_raw_path, is_video_path

#: Output extensions accepted by ``--ext`` for images (lower case, with the dot).
OUTPUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".avif")
#: What a camera RAW file becomes unless ``--ext`` says otherwise: 16 bits, lossless, and the
#: writer keeps EXIF and the ICC profile in it (16-bit TIFF keeps only the profile).
RAW_OUTPUT = ".png"
_INPUTS = ", ".join(IMAGE_EXTENSIONS + RAW_EXTENSIONS + VIDEO_EXTENSIONS)


#: A place: a local :class:`~pathlib.Path`, or a URI as a :class:`~pathlib.PurePosixPath` whose
#: first part holds the scheme and host (``s3://b/k`` as ``s3:||b/k``, ``file:///t`` as
#: ``file:||/t``), so that path arithmetic (parent, relative_to, /) works alike for both.
Location = Union[Path, PurePosixPath]
_MARK = ":||"


def is_uri(item) -> bool:
    """Whether ``item`` (a string or a :data:`Location`) names a URI rather than a local path."""
    if isinstance(item, Path):
        return False
    return "://" in str(item) or (isinstance(item, PurePosixPath) and _MARK in str(item).split("/", 1)[0])


def location(item: str) -> Location:
    """A command-line input or output as a :data:`Location`."""
    if not is_uri(item):
        return Path(item)
    scheme, rest = str(item).split("://", 1)
    return PurePosixPath(f"{scheme}{_MARK}{rest}")


def location_str(loc: Location) -> str:
    """The path or URI a :data:`Location` stands for."""
    return str(loc) if isinstance(loc, Path) else str(loc).replace(_MARK, "://", 1)


def filesystem(loc):
    """``(pyarrow filesystem, path inside it)`` for a local path or any URI pyarrow or fsspec understand."""
    from ..errors import require

    pafs = require("pyarrow.fs", f"reading {location_str(loc)}", "ray", "pyarrow")
    if not is_uri(loc):
        return pafs.LocalFileSystem(), str(Path(loc).resolve())
    uri = location_str(loc) if isinstance(loc, PurePath) else str(loc)
    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception:  # schemes pyarrow lacks natively (gcsfs, adlfs, ...) through fsspec
        import fsspec

        fs, path = fsspec.core.url_to_fs(uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def _key(loc: Location) -> str:
    return location_str(loc) if is_uri(loc) else str(Path(loc).resolve())


@dataclass(frozen=True)
class Job:
    source: Location
    target: Location


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: ``done``, ``skipped`` (its output exists) or ``failed`` (``error`` says why)."""

    job: Job
    state: str
    error: str | None = None


@dataclass
class Summary:
    """What a batch did, locally or on Ray: jobs done, skipped (output exists) and failed (with
    why); the Ray engine also adds the megapixels and the wall time of the enhancing."""

    done: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[tuple[Job, str]] = field(default_factory=list)
    megapixels: float = 0.0
    seconds: float = 0.0

    def add(self, outcome: Outcome) -> None:
        if outcome.state == "failed":
            self.failed.append((outcome.job, outcome.error or "failed"))
        else:
            (self.done if outcome.state == "done" else self.skipped).append(outcome.job)

    @property
    def megapixels_per_s(self) -> float:
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0

    def exit_code(self) -> int:
        """0 when nothing failed, 1 when some files failed and the rest were done, 2 when every
        file failed (nothing could be done)."""
        if self.failed and not self.done and not self.skipped:
            return 2
        return 1 if self.failed else 0

    def line(self) -> str:
        """The one-line account printed after a batch."""
        return (f"enhanced {len(self.done)}, skipped {len(self.skipped)} existing"
                f"{' (--overwrite replaces them)' if self.skipped else ''}, failed {len(self.failed)}")


def collect_inputs(items: list[str], recursive: bool = False) -> list[tuple[Path, Path]]:
    """``(file, base)`` for every image named by ``items``: files, folders (their images; with
    ``recursive`` also those of subfolders) or glob patterns. ``base`` is the folder an output
    folder mirrors (the named folder, or the file's own folder)."""
    found: list[tuple[Location, Location]] = []
    for item in items:
        if is_uri(item):
            found.extend(_collect_uri(item, recursive))
            continue
        path = Path(item)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(p for p in path.glob(pattern) if p.is_file() and is_media_path(p)
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not files:
                nested = not recursive and any(p.is_file() and is_media_path(p) for p in path.glob("*/**/*"))
                hint = "; its subfolders hold images: pass -r to include them" if nested else f"; expected {_INPUTS}"
                raise LowlightError(f"no images in folder {path}{' (searched recursively)' if recursive else ''}"
                                    + hint)
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
        key = _key(f)
        if key not in seen:
            seen.add(key)
            unique.append((f, base))
    return unique


def _hidden(rel: PurePath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _collect_uri(item: str, recursive: bool) -> list[tuple[Location, Location]]:
    """:func:`collect_inputs` for one URI: the same rules (media files only, hidden files and
    folders skipped, an empty folder an error), listed through pyarrow."""
    import pyarrow.fs as pafs

    from ..media.files import is_media_path

    fs, path = filesystem(item)
    info = fs.get_file_info(path)
    root = location(item)
    if info.type == pafs.FileType.File:
        return [(root, root.parent)]
    if info.type != pafs.FileType.Directory:
        raise LowlightError(f"input not found: {item}")
    listed = fs.get_file_info(pafs.FileSelector(path, recursive=recursive))
    rels = sorted(PurePosixPath(f.path).relative_to(path) for f in listed if f.type == pafs.FileType.File)
    files = [root / rel for rel in rels if is_media_path(Path(rel.name)) and not _hidden(rel)]
    if not files:
        raise LowlightError(f"no images in folder {item}{' (searched recursively)' if recursive else ''}; "
                            f"expected {_INPUTS}")
    return [(f, root) for f in files]


def normalise_ext(ext: str | None) -> str | None:
    """``"JPG"`` -> ``".jpg"``; None stays None; unknown formats are an error."""
    if not ext:
        return None
    ext = "." + ext.lower().lstrip(".")
    if ext not in OUTPUT_EXTENSIONS:
        raise LowlightError(f"unknown --ext {ext[1:]!r}; use png, jpg, webp, tif, bmp, heic or avif")
    return ext


def check_suffix(suffix: str) -> str:
    """``--suffix`` is part of a file name: no folder separators in it."""
    if "/" in suffix or "\\" in suffix:
        raise LowlightError(f"--suffix {suffix!r} holds a path separator; it is added to each file's name "
                            "(e.g. _enhanced): use -o FOLDER to choose where outputs go")
    return suffix


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


def plan(inputs: list[tuple[Location, Location]], output: Location | None, suffix: str = "",
         ext: str | None = None) -> list[Job]:
    """One job per input. ``output``: None writes next to each input (a suffix is then required),
    a file name (one local input only), or a folder that mirrors each input's place under its
    base (a URI output is always a folder).

    Earlier outputs are not inputs: an input that is another input's output (``photo_enhanced.jpg``
    beside ``photo.jpg``, from an earlier run in place), and anything already under the output
    folder when that folder lies inside an input folder (``-o nest/out`` for ``nest -r``), so
    re-running the same command skips or redoes its outputs.
    """
    if output is None and not suffix:
        raise LowlightError("writing next to the inputs needs a --suffix (e.g. --suffix _enhanced), "
                            "or pass -o FOLDER")
    local_out = output is not None and not is_uri(output)
    writable = OUTPUT_EXTENSIONS + VIDEO_EXTENSIONS
    names_a_file = local_out and output.suffix.lower() in writable and not output.is_dir()
    if names_a_file and len(inputs) > 1:
        raise LowlightError(f"-o {output} names one file, but {len(inputs)} inputs were given; "
                            "pass a folder to -o (it is created if missing)")
    if local_out and output.exists() and not output.is_dir() and not names_a_file:
        raise LowlightError(f"-o {output} is a file, not a folder; choose a folder for the outputs")
    single_file = local_out and len(inputs) == 1 and output.suffix != "" and not output.is_dir()
    if output is not None and not single_file:  # earlier outputs inside an input folder
        inside = _key(output).rstrip("/") + "/"
        kept_inputs = [(f, base) for f, base in inputs if not _key(f).startswith(inside)]
        inputs = kept_inputs or inputs

    def target(source: Location, base: Location) -> Location:
        video = is_video_path(Path(source.name))
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
        produced = {_key(job.target) for job in jobs}
        kept = [job for job in jobs if _key(job.source) not in produced]
        jobs = kept or jobs
    sources = {_key(job.source) for job in jobs}
    targets: dict[str, Location] = {}
    for job in jobs:
        key = _key(job.target)
        if key in sources:
            raise LowlightError(f"output {location_str(job.target)} would overwrite an input; choose another "
                                "-o folder or a --suffix")
        if key in targets:
            fix = ("--ext gives them the same name; leave out --ext or use separate output folders" if ext else
                   "use --ext or separate output folders")
            raise LowlightError(f"{location_str(targets[key])} and {location_str(job.source)} would both be "
                                f"written to {location_str(job.target)}; {fix}")
        targets[key] = job.source
    return jobs


def plan_inputs(items: list[str], output: str | None, suffix: str = "", ext: str | None = None,
                recursive: bool = False) -> list[Job]:
    """:func:`collect_inputs` then :func:`plan`, from what a command line names (paths or URIs)."""
    check_suffix(suffix)
    return plan(collect_inputs(items, recursive), location(output) if output else None, suffix, normalise_ext(ext))


def existing_outputs(output: str) -> set[str]:
    """Every file under the folder ``output`` (a path or URI), as :func:`location_str` writes it,
    in one recursive listing: on an object store one request per 1000 keys, not one per output."""
    if not is_uri(output):
        root = Path(output)
        return {str(p) for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()
    import pyarrow.fs as pafs

    fs, root = filesystem(output)
    found = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    prefix = location_str(location(output)).rstrip("/")
    return {prefix + "/" + str(PurePosixPath(f.path).relative_to(root)) for f in found if f.type == pafs.FileType.File}


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
