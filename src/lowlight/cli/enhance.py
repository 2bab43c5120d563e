"""``lowlight enhance INPUT... [-o OUT]``: files, folders or globs, with the bundled model or any other."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import LowlightError
from .common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, add_model_flags, add_quiet, load_enhancer


def add_parsers(sub) -> None:
    p = sub.add_parser("enhance", help="enhance dark photos, camera RAW and video (files, folders or globs)",
                       description="Enhance dark photos (PNG, JPEG, WebP, TIFF, BMP, HEIC, AVIF), camera RAW files "
                                   "and videos with the bundled model (or --weights/--model/--method). "
                                   "Inputs are never overwritten; existing outputs are skipped unless "
                                   "--overwrite; a file that fails is reported and the rest go on (exit 1).")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image, RAW or video files, folders or glob patterns")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output folder (or a file name for one input) [next to each input, with --suffix]")
    p.add_argument("-r", "--recursive", action="store_true", help="also enhance images in subfolders")
    p.add_argument("--suffix", help="added to each output's file stem [_enhanced without -o, none with -o]")
    p.add_argument("--ext", help="image output format: png, jpg, webp, tif, bmp, heic, avif "
                                 "[same as input; 16-bit png for camera RAW; videos keep their container]")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP/HEIC/AVIF quality, 1-100 [95]")
    p.add_argument("--max-pixels", type=float, metavar="N",
                   help="largest image to read, in pixels (e.g. 400e6); bigger files fail alone [180e6]")
    g = p.add_argument_group("adjustments")
    g.add_argument("--strength", type=float, default=1.0, help="0 keeps the input, 1 the full enhancement [1]")
    g.add_argument("--exposure", type=float, default=0.0, metavar="STOPS",
                   help="brighten (+) or darken (-) the result by stops of light [0]")
    g.add_argument("--brightness", type=float, metavar="LUMA",
                   help="the result's mean luma, 0.01-0.99 (e.g. 0.45), for models that take a target "
                        "(curve-unet trained with exposure targets) [the model's own choice]")
    g = p.add_argument_group("camera RAW (needs lowlight[raw])")
    g.add_argument("--raw-exposure", type=float, default=0.0, metavar="STOPS",
                   help="linear gain before the model, for very dark RAW frames (SID's amplification) [0]")
    g = p.add_argument_group("video (needs lowlight[video])")
    g.add_argument("--codec", help="video encoder: libx264, libx265, libvpx-vp9, libsvtav1 [libx264; VP9 for .webm]")
    g.add_argument("--crf", type=int, default=18, help="video quality, lower is better (18: visually lossless) [18]")
    g.add_argument("--smoothing", type=float, default=0.5, metavar="SECONDS",
                   help="time constant that steadies the brightening from frame to frame (0: off) [0.5]")
    g = p.add_argument_group("scale-out (needs lowlight[ray])")
    g.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process; ray: a pool of Ray actors (inputs and -o may be s3://, gs://, ... "
                        "URIs) [local]")
    g.add_argument("--ray-address", metavar="ADDR",
                   help="a running Ray cluster: auto or ray://HOST:10001 [start a local Ray, shut it down after]")
    g.add_argument("--actors", type=int, metavar="N", help="model replicas [one per CPU, or per GPU]")
    g.add_argument("--batch-size", type=int, default=4, metavar="K", help="files per actor call [4]")
    g = p.add_argument_group("memory")
    g.add_argument("--tile", type=int, metavar="PX",
                   help="process in PX-pixel tiles (0: never) [auto: whole images up to 8 MP, else 1024]")
    g.add_argument("--tile-overlap", type=int, default=256, metavar="PX", help="overlap between tiles [256]")
    add_quiet(p, "no progress output")
    add_model_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..batch import plan as batch
    from ..core.enhancer import EnhanceOptions, check_options, enhance_photo
    from ..media.files import is_raw_path, is_video_path
    from ..media.photo import check_quality, read_photo, write_photo
    from ..progress import progress as progress_bar
    from ..media.raw import check_exposure
    from ..media.video import VideoOptions, check_codec

    suffix = args.suffix if args.suffix is not None else ("" if args.output else "_enhanced")
    check_quality(args.quality)  # up front: once, not once per file
    options = EnhanceOptions(args.strength, args.exposure, args.tile, args.tile_overlap,
                             args.brightness)  # checked up front
    video = VideoOptions(args.codec, args.crf, smoothing=args.smoothing)
    check_exposure(args.raw_exposure)
    if args.engine == "ray":
        return run_ray(args, suffix, options)
    if args.ray_address or args.actors:
        raise LowlightError("--ray-address and --actors need --engine ray")
    if any(batch.is_uri(item) for item in [*args.inputs, args.output or ""]):
        raise LowlightError("URIs (s3://, gs://, ...) are read and written by the Ray engine: add --engine ray")
    jobs = batch.plan_inputs(args.inputs, args.output, suffix, args.ext, args.recursive)
    if args.codec and any(is_video_path(job.source) for job in jobs):
        check_codec(args.codec)  # before any model is loaded or file written
    if args.raw_exposure and not any(is_raw_path(job.source) for job in jobs):
        raise LowlightError("--raw-exposure applies to camera RAW files (.dng, .cr2, .nef, ...) and none of the "
                            "inputs is one; use --exposure STOPS to brighten the result instead")
    enhancer = load_enhancer(args)
    check_options(enhancer, options)  # before any file: --brightness or --tile where they do not apply

    max_pixels = int(args.max_pixels) if args.max_pixels else None
    if max_pixels is not None and max_pixels < 1:
        raise LowlightError(f"--max-pixels must be positive, got {args.max_pixels:g}")

    def work(job: batch.Job) -> None:
        if is_video_path(job.source):
            from ..media.video import enhance_video

            enhance_video(enhancer, job.source, job.target, options, video, progress=not args.quiet,
                          on_note=lambda note: print(f"lowlight: note: {note}", file=sys.stderr))
            return
        photo = read_photo(job.source, max_pixels=max_pixels, raw_exposure=args.raw_exposure)
        if photo.frames > 1 and not args.quiet:
            print(f"lowlight: note: {job.source.name} has {photo.frames} frames; the first was enhanced",
                  file=sys.stderr)
        write_photo(enhance_photo(enhancer, photo, options), job.target, quality=args.quality)

    single = len(jobs) == 1

    def report(outcome: batch.Outcome) -> None:
        job = outcome.job
        if outcome.state == "failed":
            error = outcome.error or "failed"
            print(f"lowlight: error: {error if str(job.source) in error else f'{job.source}: {error}'}",
                  file=sys.stderr)
            return
        finished.append(job)
        if single and not args.quiet:
            print(f"{job.source} -> {job.target}" if outcome.state == "done" else
                  f"{job.target} exists; skipped (pass --overwrite to replace it)")

    bar = progress_bar(jobs, not (args.quiet or single), desc="enhance", unit="img")
    finished: list = []
    try:
        summary = batch.run(bar, work, overwrite=args.overwrite, on_done=report)
    except KeyboardInterrupt:
        getattr(bar, "close", lambda: None)()
        print(f"lowlight: interrupted after {len(finished)} of {len(jobs)} files; every output written is whole, "
              "and the same command again does the rest", file=sys.stderr)
        return 130
    if not args.quiet and not single:
        print(summary.line())
    return summary.exit_code()


def run_ray(args: argparse.Namespace, suffix: str, options) -> int:
    """``--engine ray``: the same plan and rules as the local path, the work on Ray actors."""
    from dataclasses import asdict

    from ..batch.ray_engine import enhance_dataset
    from .common import enhancer_spec

    if not args.output:
        raise LowlightError("--engine ray writes into a folder: pass -o FOLDER (a path or a URI such as s3://bucket/out)")
    max_pixels = int(args.max_pixels) if args.max_pixels else None
    summary = enhance_dataset(args.inputs, args.output, spec=enhancer_spec(args), options=asdict(options),
                              address=args.ray_address, actors=args.actors, batch_size=args.batch_size,
                              suffix=suffix, ext=args.ext, recursive=args.recursive, overwrite=args.overwrite,
                              quality=args.quality, max_pixels=max_pixels, raw_exposure=args.raw_exposure,
                              progress=not args.quiet)
    from ..batch.plan import location_str

    for job, error in summary.failed:
        print(f"lowlight: error: {location_str(job.source)}: {error}", file=sys.stderr)
    if not args.quiet:
        print(f"{summary.line()}; {summary.megapixels:.1f} MP in {summary.seconds:.1f} s with actor start-up "
              f"({summary.megapixels_per_s:.2f} MP/s)")
    return summary.exit_code()

