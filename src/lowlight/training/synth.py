"""Synthetic low-light pairs from normal-light photos, by a stated physical model.

For a well-exposed sRGB photo ``I`` (the reference), the dark version is made in linear light:

1. ``x = srgb_to_linear(I)``; optional white-balance error: red and blue gains ``exp(u)``,
   ``u ~ U(-cast, cast)`` each (``cast`` = ``color_cast``, default 0.1; 0 disables it).
2. Exposure cut: ``x * e`` with ``e`` log-uniform in ``[0.02, 0.25]`` (2 to 5.6 stops under).
3. Sensor noise in electrons, full well ``W`` log-uniform in ``[1000, 20000]``:
   shot noise ``Poisson(x e W)`` plus Gaussian read noise of ``r`` electrons, ``r`` log-uniform
   in ``[0.5, 8]``; divided by ``W`` and clipped to [0, 1].
4. ``linear_to_srgb`` and rounding to 8 bits.
5. Optionally (``jpeg`` > 0, the probability; default 0), JPEG compression as a camera or phone
   saves the dark frame: quality uniform in ``[70, 95]``, 4:2:0 chroma subsampling. A large gain
   turns those 8x8 blocks and chroma smears into visible patterns, so a model must see them.

Optionally (``lights`` > 0, the probability; default 0), 1 to 8 light sources are added to the
scene in linear light (before the white-balance error of step 1), as in night photos: a Gaussian
core bright enough to saturate the dark frame (1x to 20x its clipping level) and a wider glow
(0.02x to 0.5x the reference's white). The reference then shows them clipped white with their
glow, and the dark frame shows saturated lamps in dark surroundings, which darkening a
well-exposed photo never produces and which a model otherwise answers with a dark halo.

Broader pairs, for a model that must also leave good photos alone (each off by default, drawn
after everything above so older folders are reproduced byte for byte):

- ``exposure_range``: where ``e`` is drawn from; up to 1 (no cut at all) for photos that are
  only slightly dark.
- ``identity`` (a probability): the input is the reference itself (JPEG-saved when the pair
  draws a JPEG quality): a well-exposed photo must come out unchanged.
- ``vary`` (a probability): the exposure varies across the frame, ``e * exp(s * field)`` capped
  at 1, the field a smooth random surface plus a ramp in a random direction (``s`` uniform in
  [0.5, 2]): a dark foreground under a bright sky, a lit corner of a dark room.
- ``tint`` (a probability): the scene is lit by a coloured source (tungsten, sodium, LED or
  daylight shade, mixed 30-100% with white), in the reference as in the input: a warm room at
  night stays warm, so the model learns not to neutralise the light people saw.

Each pair draws its own parameters from a seeded generator and records them in ``pairs.jsonl``.
``lowlight/resources/photos_split.json`` fixes which of ``../shared/datasets/photos/`` are held out
for testing: ``split="train"`` skips them, ``split="test"`` takes only them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..color import linear_to_srgb, srgb_to_linear
from ..errors import LowlightError
from ..media.files import atomic_write_text, list_images
from ..media.photo import read_image, save_image
from ..progress import progress as progress_bar

EXPOSURE_RANGE = (0.02, 0.25)
FULL_WELL_RANGE = (1000.0, 20000.0)
READ_NOISE_RANGE = (0.5, 8.0)
JPEG_QUALITY_RANGE = (70, 95)
LIGHT_COUNT_RANGE = (1, 8)
LIGHT_CORE_RANGE = (1.0, 20.0)     #: core peak in units of the dark frame's clipping level
LIGHT_GLOW_RANGE = (0.02, 0.5)     #: glow peak in units of the reference's white
LIGHT_RADIUS_RANGE = (0.004, 0.03)  #: core sigma as a share of the short side
LIGHT_COLOURS = ((1.0, 1.0, 1.0), (1.0, 0.75, 0.45), (1.0, 0.6, 0.2), (0.85, 0.95, 1.0))  # white, tungsten, sodium, LED
ILLUMINANTS = ((1.0, 0.75, 0.45), (1.0, 0.6, 0.2), (0.85, 0.95, 1.0), (0.8, 0.9, 1.0))  # tungsten, sodium, LED, shade
TINT_MIX_RANGE = (0.3, 1.0)
VARY_STRENGTH_RANGE = (0.5, 2.0)


@dataclass(frozen=True)
class DarkenParams:
    """One draw of the darkening model (see the module docstring)."""

    exposure: float
    full_well: float
    read_noise: float
    gain_r: float = 1.0
    gain_b: float = 1.0
    jpeg_quality: int = 0  #: 0: saved losslessly
    lights: int = 0        #: light sources added to the scene (0: none)
    light_seed: int = 0    #: seed of their positions, sizes, brightness and colours
    identity: bool = False  #: the input is the reference (no darkening, no noise)
    vary: float = 0.0       #: strength ``s`` of the exposure field (0: uniform exposure)
    vary_seed: int = 0      #: seed of the field's shape
    tint: int = -1          #: index into ILLUMINANTS of the scene's light colour (-1: white)
    tint_mix: float = 0.0   #: how much of that colour (0 white, 1 the illuminant)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def sample_params(rng: np.random.Generator, color_cast: float = 0.1, jpeg: float = 0.0,
                  lights: float = 0.0, exposure_range: tuple[float, float] = EXPOSURE_RANGE,
                  identity: float = 0.0, vary: float = 0.0, tint: float = 0.0) -> DarkenParams:
    """Draw exposure, noise, white-balance error, (with probability ``jpeg``) a JPEG quality,
    (with probability ``lights``) light sources, and the broader options of the module docstring.

    The later draws come last and only when asked for, so pairs made without them are
    unchanged."""
    exposure = _log_uniform(rng, *exposure_range)
    full_well = _log_uniform(rng, *FULL_WELL_RANGE)
    read_noise = _log_uniform(rng, *READ_NOISE_RANGE)
    gain_r, gain_b = (float(np.exp(rng.uniform(-color_cast, color_cast))) for _ in range(2)) \
        if color_cast > 0 else (1.0, 1.0)
    quality = 0
    if jpeg > 0 and rng.uniform() < jpeg:
        quality = int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))
    n_lights, light_seed = 0, 0
    if lights > 0 and rng.uniform() < lights:
        n_lights = int(rng.integers(LIGHT_COUNT_RANGE[0], LIGHT_COUNT_RANGE[1] + 1))
        light_seed = int(rng.integers(2 ** 31))
    extra: dict = {}
    if identity > 0 and rng.uniform() < identity:
        extra["identity"] = True
    if vary > 0 and rng.uniform() < vary:
        extra["vary"] = float(rng.uniform(*VARY_STRENGTH_RANGE))
        extra["vary_seed"] = int(rng.integers(2 ** 31))
    if tint > 0 and rng.uniform() < tint:
        extra["tint"] = int(rng.integers(len(ILLUMINANTS)))
        extra["tint_mix"] = float(rng.uniform(*TINT_MIX_RANGE))
    return DarkenParams(exposure, full_well, read_noise, gain_r, gain_b, quality, n_lights, light_seed, **extra)


def exposure_field(height: int, width: int, params: DarkenParams) -> np.ndarray:
    """Per-pixel exposure ``(H, W, 1)``: ``params.exposure`` times a smooth random field, capped at 1."""
    if not params.vary:
        return np.full((height, width, 1), params.exposure)
    rng = np.random.default_rng(params.vary_seed)
    coarse = rng.normal(size=(4, 4)).astype(np.float32)
    field = F.interpolate(torch.from_numpy(coarse)[None, None], size=(height, width), mode="bicubic",
                          align_corners=False)[0, 0].numpy().astype(np.float64)  # as OpenCV's INTER_CUBIC
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:height, 0:width]
    ramp = (np.cos(angle) * xx / max(1, width - 1) + np.sin(angle) * yy / max(1, height - 1)) * 2 - 1
    field = (field - field.mean()) / (field.std() + 1e-6) * 0.5 + ramp
    return np.minimum(params.exposure * np.exp(params.vary * field), 1.0)[..., None]


def tint_scene(x: np.ndarray, params: DarkenParams) -> np.ndarray:
    """Linear radiance under the pair's coloured light (unchanged when it has none)."""
    if params.tint < 0:
        return x
    colour = np.array(ILLUMINANTS[params.tint])
    colour = colour / (colour @ np.array([0.2126, 0.7152, 0.0722]))  # same luminance as white
    return x * (1.0 + params.tint_mix * (colour - 1.0))


def light_sources(height: int, width: int, params: DarkenParams) -> np.ndarray:
    """Linear radiance ``(H, W, 3)`` of ``params.lights`` lamps (core + glow, see the module
    docstring), in units of the reference's white; zeros when there are none."""
    field = np.zeros((height, width, 3))
    rng = np.random.default_rng(params.light_seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    for _ in range(params.lights):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        sigma = max(0.7, min(height, width) * _log_uniform(rng, *LIGHT_RADIUS_RANGE))
        core = _log_uniform(rng, *LIGHT_CORE_RANGE) / params.exposure
        glow = _log_uniform(rng, *LIGHT_GLOW_RANGE)
        spread = sigma * rng.uniform(2.0, 6.0)
        colour = np.array(LIGHT_COLOURS[int(rng.integers(len(LIGHT_COLOURS)))]) * rng.uniform(0.9, 1.1, 3)
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        profile = core * np.exp(-d2 / (2 * sigma ** 2)) + glow * np.exp(-d2 / (2 * spread ** 2))
        field += profile[..., None] * (colour / colour.max())
    return field


def make_pair(high: np.ndarray, params: DarkenParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(reference, dark)`` uint8 images from a well-exposed one: lamps (if any) added to both."""
    x = srgb_to_linear(high.astype(np.float64) / 255.0)
    if params.lights:
        x = x + light_sources(*high.shape[:2], params)
    if params.tint >= 0:
        x = tint_scene(x, params)
    if params.lights or params.tint >= 0:
        high = np.round(linear_to_srgb(np.clip(x, 0.0, 1.0)) * 255.0).astype(np.uint8)
    if params.identity:
        return high, jpeg_roundtrip(high, params.jpeg_quality) if params.jpeg_quality else high
    return high, darken_linear(x, params, rng)


def darken(image: np.ndarray, params: DarkenParams, rng: np.random.Generator) -> np.ndarray:
    """The dark, noisy uint8 version ``(H, W, 3)`` of a well-exposed uint8 sRGB image."""
    return darken_linear(srgb_to_linear(image.astype(np.float64) / 255.0), params, rng)


def darken_linear(x: np.ndarray, params: DarkenParams, rng: np.random.Generator) -> np.ndarray:
    """Steps 1-5 on linear radiance ``x`` (1 = the reference's white; brighter light saturates)."""
    x = x * np.array([params.gain_r, 1.0, params.gain_b])
    exposure = exposure_field(*x.shape[:2], params) if params.vary else params.exposure
    electrons = np.clip(x * exposure, 0.0, 1.0) * params.full_well
    noisy = rng.poisson(electrons) + rng.normal(0.0, params.read_noise, size=electrons.shape)
    dark = np.clip(noisy / params.full_well, 0.0, 1.0)
    dark = np.round(linear_to_srgb(dark) * 255.0).astype(np.uint8)
    return jpeg_roundtrip(dark, params.jpeg_quality) if params.jpeg_quality else dark


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` after saving as a JPEG of ``quality`` (4:2:0) and decoding it again."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, subsampling="4:2:0")
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def photo_split() -> dict[str, list[str]]:
    """The fixed split of the shared normal-light photos: ``{"test": [...file names...]}``."""
    text = resources.files("lowlight").joinpath("resources/photos_split.json").read_text(encoding="utf-8")
    return json.loads(text)


def select_photos(folder: Path, split: str = "train") -> list[Path]:
    """Images in ``folder`` for a split: ``train`` (all but the held-out test names), ``test`` or ``all``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LowlightError(f"photo folder not found: {folder}; pass a folder of well-exposed photos")
    photos = list_images(folder)
    held_out = set(photo_split()["test"])
    if split == "train":
        photos = [p for p in photos if p.name not in held_out]
    elif split == "test":
        photos = [p for p in photos if p.name in held_out]
    elif split != "all":
        raise LowlightError(f"unknown split {split!r}; choose train, test or all")
    if not photos:
        raise LowlightError(f"no photos for split {split!r} in {folder}; expected PNG, JPEG, WebP, BMP "
                            "or TIFF files (the test split lists names from ../shared/datasets/photos)")
    return photos


def _crop_resize(image: np.ndarray, size: int, rng: np.random.Generator, full: bool) -> np.ndarray:
    """A random crop (60-100% of each side; the whole image when ``full``), long side resized to ``size``."""
    from PIL import Image

    h, w = image.shape[:2]
    if not full:
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        image = image[y:y + ch, x:x + cw]
        h, w = ch, cw
    if size and max(h, w) > size:
        scale = size / max(h, w)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = np.asarray(Image.fromarray(image).resize(new, Image.LANCZOS))
    return image


def synthesize(photos: Path, out: Path, count: int | None = None, size: int = 512, seed: int = 0,
               split: str = "train", color_cast: float = 0.1, jpeg: float = 0.0,
               lights: float = 0.0, exposure_range: tuple[float, float] = EXPOSURE_RANGE,
               identity: float = 0.0, vary: float = 0.0, tint: float = 0.0,
               progress: bool = True, on_skip: Callable[[str], None] | None = None,
               overwrite: bool = False) -> list[dict]:
    """Write ``count`` pairs (default: one per photo) as ``out/low/NAME.png`` + ``out/high/NAME.png``.
    A folder that ``synth`` made earlier is replaced only with ``overwrite``.

    Photo ``i % n`` gives pair ``i``; its first use is the whole photo, later ones random crops.
    A photo that cannot be read is skipped (its pairs are missing; ``on_skip`` hears why) and the
    rest go on. Returns the per-pair records also written to ``out/pairs.jsonl``.
    """
    sources = select_photos(photos, split)
    count = len(sources) if count is None else count
    if count < 1:
        raise LowlightError(f"--count must be at least 1, got {count}")
    if not 0.0 <= jpeg <= 1.0:
        raise LowlightError(f"--jpeg is a probability between 0 and 1, got {jpeg}")
    for flag, value in (("lights", lights), ("identity", identity), ("vary", vary), ("tint", tint)):
        if not 0.0 <= value <= 1.0:
            raise LowlightError(f"--{flag} is a probability between 0 and 1, got {value}")
    lo, hi = exposure_range
    if not 0.0 < lo <= hi <= 1.0:
        raise LowlightError(f"--exposure LO HI needs 0 < LO <= HI <= 1, got {lo:g} {hi:g}")
    if size < 0:
        raise LowlightError(f"--size must be 0 (keep) or a positive long side, got {size}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "pairs.jsonl").exists())):
        raise LowlightError(f"{out} exists and is not a lowlight synth folder; choose an empty --out")
    if (out / "pairs.jsonl").exists() and not overwrite:
        made = sum(1 for _ in (out / "pairs.jsonl").open())
        raise LowlightError(f"{out} already holds {made} synthetic pairs; pass --overwrite to replace them "
                            "(or choose another --out)")
    # Built beside the target and renamed into place at the end: an interrupted or failed run
    # leaves no folder that looks like a finished dataset.
    staging = out.parent / f".{out.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    records, skipped = [], []
    try:
        bad: set[Path] = set()
        for i in progress_bar(range(count), progress, desc="synth", unit="pair"):
            src = sources[i % len(sources)]
            if src in bad:
                continue
            rng = np.random.default_rng([seed, i])
            try:
                photo = read_image(src)
            except LowlightError as exc:
                bad.add(src)
                skipped.append(str(exc))
                if on_skip is not None:
                    on_skip(str(exc))
                continue
            high = _crop_resize(photo, size, rng, full=i < len(sources))
            params = sample_params(rng, color_cast, jpeg, lights, (lo, hi), identity, vary, tint)
            high, low = make_pair(high, params, rng)
            name = f"{src.stem}-{i // len(sources)}"
            save_image(high, staging / "high" / f"{name}.png")
            save_image(low, staging / "low" / f"{name}.png")
            records.append({"name": name, "source": src.name, **asdict(params)})
        if not records:
            raise LowlightError(f"no photo in {photos} could be read ({len(skipped)} failed; first: {skipped[0]})")
        atomic_write_text(staging / "pairs.jsonl", "".join(json.dumps(r) + "\n" for r in records))
        if out.exists():
            old = out.parent / f".{out.name}.old"
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return records
