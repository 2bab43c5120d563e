"""Evidence for docs/FORMATS.md: video flicker and frames, and what a RAW frame gains over a JPEG.

    python bench/formats.py [--photos ../shared/datasets/photos] [--out docs/formats]

Video: a synthetic dark clip (``lowlight.media.video.make_clip``: a pan across ``samples/dark/dicm-03.jpg``
with noise and a light switched on for frames 8-11, as the tests make it, here 48 frames at
320x240) enhanced by the bundled model with the brightness smoothing off and at 0.5 s; the table
gives flicker (``lowlight.research.metrics.flicker``) over the whole clip and over its steady first 8
frames, and ``video-frames.png`` shows the first and last frames, input above, output below.

RAW: each held-out photo of the fixed split (the 8 test photos, long side 512) is taken as the
scene, darkened in linear light by 2**-STOPS, given shot and read noise, and written twice: as a
12-bit RGGB DNG (``lowlight.raw.synthetic_dng``) and as the camera JPEG of the same frame
(sRGB curve, 8 bits, quality 90). PSNR against the photo, for the bundled model on (a) the JPEG,
(b) the DNG as lowlight reads it, (c) the DNG with ``--raw-exposure STOPS`` (the frame brought to
its right exposure in linear light before the model, as SID amplifies), (d) that gain alone.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.color import linear_to_srgb, srgb_to_linear
from lowlight.core.enhancer import enhance_photo, load_model
from lowlight.research.metrics import flicker
from lowlight.media.photo import read_image, read_photo, split_array
from lowlight.media.raw import synthetic_dng
from lowlight.training.synth import select_photos
from lowlight.media.video import VideoOptions, enhance_video, frame_lumas, make_clip

ROOT = Path(__file__).resolve().parents[1]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def video_evidence(enhancer, out: Path) -> None:
    import av

    photo = read_image(ROOT / "samples" / "dark" / "dicm-03.jpg")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", photo, frames=48, size=(320, 240), fps=12)
        base = frame_lumas(clip)
        print("| clip | flicker, whole clip (%) | flicker, steady first 8 frames (%) | mean luma |")
        print("|---|---|---|---|")
        print(f"| input | {flicker(base):.2f} | {flicker(base[:8]):.2f} | {base.mean():.3f} |")
        for seconds in (0.0, 0.5):
            result = enhance_video(enhancer, clip, Path(tmp) / f"out-{seconds}.mp4",
                                   video=VideoOptions(smoothing=seconds))
            lum = frame_lumas(result)
            print(f"| output, smoothing {seconds:g} s | {flicker(lum):.2f} | {flicker(lum[:8]):.2f} | {lum.mean():.3f} |")
        frames = []
        for path in (clip, result):
            with av.open(str(path)) as c:
                decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
            frames.append(np.concatenate([decoded[0], np.full((240, 8, 3), 255, np.uint8), decoded[-1]], axis=1))
        sheet = np.concatenate([frames[0], np.full((8, frames[0].shape[1], 3), 255, np.uint8), frames[1]], axis=0)
        out.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet).save(out / "video-frames.png")
        print(f"wrote {out / 'video-frames.png'}")


def raw_evidence(enhancer, photos: Path, stops: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in select_photos(photos, "test"):
            im = Image.open(path).convert("RGB")
            im.thumbnail((512, 512))
            ref = np.asarray(im, np.float32)[: im.height // 2 * 2, : im.width // 2 * 2] / 255.0
            linear = srgb_to_linear(ref) * 2.0 ** -stops
            electrons = 4000.0  # full-well scale: shot noise, then read noise of 2/4095
            noisy = rng.poisson(np.clip(linear, 0, 1) * electrons) / electrons + rng.normal(0, 2 / 4095, linear.shape)
            noisy = np.clip(noisy, 0.0, 1.0)
            buf = io.BytesIO()
            Image.fromarray(np.round(linear_to_srgb(noisy) * 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
            jpeg = split_array(np.asarray(Image.open(buf)))
            dng = synthetic_dng(Path(tmp) / f"{path.stem}.dng", noisy)
            cases = {"camera JPEG": jpeg, "RAW": read_photo(dng), f"RAW +{stops:g} stops": read_photo(dng, raw_exposure=stops)}
            row = {name: psnr(enhance_photo(enhancer, photo, None).rgb, ref) for name, photo in cases.items()}
            row[f"+{stops:g} stops, no model"] = psnr(cases[f"RAW +{stops:g} stops"].rgb, ref)
            rows.append((path.name, row))
    names = list(rows[0][1])
    print(f"\n| photo (darkened {stops:g} stops) | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for name, row in rows:
        print(f"| {name} | " + " | ".join(f"{row[n]:.2f}" for n in names) + " |")
    print("| **mean** | " + " | ".join(f"**{np.mean([r[n] for _, r in rows]):.2f}**" for n in names) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "datasets" / "photos")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "formats")
    parser.add_argument("--stops", type=float, nargs="+", default=[3.0, 5.0], help="how dark the RAW frames are")
    args = parser.parse_args()
    enhancer = load_model()
    video_evidence(enhancer, args.out)
    for stops in args.stops:
        raw_evidence(enhancer, args.photos, stops)


if __name__ == "__main__":
    main()
