import json

import numpy as np
import pytest
from PIL import Image

from lowlight.color import srgb_to_linear
from lowlight.media.pairs import find_pairs
from lowlight.errors import LowlightError
from lowlight.training.synth import DarkenParams, darken, photo_split, sample_params, select_photos, synthesize


def test_darken_cuts_exposure_in_linear_light():
    img = np.full((64, 64, 3), 200, dtype=np.uint8)
    p = DarkenParams(exposure=0.1, full_well=1e9, read_noise=0.0)  # practically noiseless
    dark = darken(img, p, np.random.default_rng(0))
    lin = srgb_to_linear(dark / 255.0).mean()
    assert lin == pytest.approx(srgb_to_linear(np.array(200 / 255.0)) * 0.1, rel=0.02)


def test_darken_noise_grows_as_the_full_well_shrinks():
    img = np.full((64, 64, 3), 180, dtype=np.uint8)
    quiet = darken(img, DarkenParams(0.1, 20000, 0.5), np.random.default_rng(0)).std()
    noisy = darken(img, DarkenParams(0.1, 1000, 8.0), np.random.default_rng(0)).std()
    assert noisy > 2 * quiet


def test_color_cast_changes_red_and_blue_only():
    img = np.full((32, 32, 3), 200, dtype=np.uint8)
    p = DarkenParams(0.2, 1e9, 0.0, gain_r=1.1, gain_b=0.9)
    dark = darken(img, p, np.random.default_rng(0)).reshape(-1, 3).mean(0)
    assert dark[0] > dark[1] > dark[2]


def test_params_stay_in_the_stated_ranges():
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = sample_params(rng, color_cast=0.1)
        assert 0.02 <= p.exposure <= 0.25 and 1000 <= p.full_well <= 20000 and 0.5 <= p.read_noise <= 8
        assert np.exp(-0.1) <= p.gain_r <= np.exp(0.1)
    assert sample_params(rng, color_cast=0).gain_r == 1.0


def test_jpeg_step_compresses_the_dark_frame_and_leaves_other_draws_alone(photos_tiny, tmp_path):
    rng = np.random.default_rng(0)
    ramp = np.tile(np.linspace(0, 60, 64, dtype=np.uint8)[None, :, None], (64, 1, 3))
    noisy = darken(ramp, DarkenParams(0.5, 2000, 4.0), rng)
    compressed = darken(ramp, DarkenParams(0.5, 2000, 4.0, jpeg_quality=75), np.random.default_rng(0))
    assert not np.array_equal(noisy, compressed)
    assert np.abs(noisy.astype(int) - compressed).mean() < 6  # the same frame, compressed
    qualities = [sample_params(np.random.default_rng(i), jpeg=0.5).jpeg_quality for i in range(200)]
    assert 70 <= min(q for q in qualities if q) and max(qualities) <= 95
    assert 60 < sum(q > 0 for q in qualities) < 140
    plain = synthesize(photos_tiny, tmp_path / "a", count=3, size=64, seed=3, progress=False)
    jpeg = synthesize(photos_tiny, tmp_path / "b", count=3, size=64, seed=3, jpeg=1.0, progress=False)
    for a, b in zip(plain, jpeg):  # the JPEG draw comes last: exposure and noise are unchanged
        assert {k: v for k, v in a.items() if k != "jpeg_quality"} == \
            {k: v for k, v in b.items() if k != "jpeg_quality"} and b["jpeg_quality"] >= 70
    with pytest.raises(LowlightError, match="jpeg"):
        synthesize(photos_tiny, tmp_path / "c", count=1, jpeg=2.0, progress=False)


def test_lights_saturate_the_dark_frame_and_only_brighten_the_reference(photos_tiny, tmp_path):
    plain = synthesize(photos_tiny, tmp_path / "a", count=3, size=64, seed=3, progress=False)
    lamps = synthesize(photos_tiny, tmp_path / "b", count=3, size=64, seed=3, lights=1.0, progress=False)
    for a, b in zip(plain, lamps):  # the light draw comes last: exposure and noise are unchanged
        assert {k: v for k, v in a.items() if k not in ("lights", "light_seed")} == \
            {k: v for k, v in b.items() if k not in ("lights", "light_seed")} and 1 <= b["lights"] <= 8
        read = lambda run, kind: np.asarray(Image.open(tmp_path / run / kind / f"{a['name']}.png"))  # noqa: E731
        assert (read("b", "high") >= read("a", "high")).all() and read("b", "high").max() == 255
        assert read("a", "low").max() < 200 <= read("b", "low").max()  # exposure <= 0.25 never saturates
    with pytest.raises(LowlightError, match="lights"):
        synthesize(photos_tiny, tmp_path / "c", count=1, lights=-0.1, progress=False)


def test_synthesize_writes_a_lol_style_folder(photos_tiny, tmp_path):
    recs = synthesize(photos_tiny, tmp_path / "s", count=5, size=64, seed=3, progress=False)
    pairs = find_pairs(tmp_path / "s")
    assert len(pairs) == 5 and len(recs) == 5
    lines = (tmp_path / "s" / "pairs.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["source"] == recs[0]["source"]
    again = synthesize(photos_tiny, tmp_path / "t", count=5, size=64, seed=3, progress=False)
    assert recs == again  # seeded


def test_the_fixed_split_names_eight_test_photos():
    assert len(set(photo_split()["test"])) == 8


@pytest.mark.shared
def test_fixed_split_holds_out_test_photos(shared):
    names = set(photo_split()["test"])
    train = {p.name for p in select_photos(shared / "photos", "train")}
    test = {p.name for p in select_photos(shared / "photos", "test")}
    assert test == names and not train & test and len(train) + len(test) == 37


def test_select_photos_errors(tmp_path):
    with pytest.raises(LowlightError, match="photo folder not found"):
        select_photos(tmp_path / "x")
    with pytest.raises(LowlightError, match="no photos"):
        select_photos(tmp_path)


def test_broad_options_come_last_and_do_what_they_say(photos_tiny, tmp_path):
    plain = synthesize(photos_tiny, tmp_path / "a", count=3, size=64, seed=3, progress=False)
    broad = synthesize(photos_tiny, tmp_path / "b", count=3, size=64, seed=3, identity=1.0, vary=1.0,
                       tint=1.0, progress=False)
    keys = ("exposure", "full_well", "read_noise", "gain_r", "gain_b")
    for a, b in zip(plain, broad):  # the new draws come last: older folders are reproduced
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
        assert b["identity"] and 0.5 <= b["vary"] <= 2.0 and b["tint"] >= 0 and 0.3 <= b["tint_mix"] <= 1.0
        low = np.asarray(Image.open(tmp_path / "b" / "low" / f"{b['name']}.png"))
        high = np.asarray(Image.open(tmp_path / "b" / "high" / f"{b['name']}.png"))
        assert np.array_equal(low, high)  # identity: the input is the reference
    with pytest.raises(LowlightError, match="--exposure"):
        synthesize(photos_tiny, tmp_path / "c", count=1, exposure_range=(0.5, 2.0), progress=False)
    with pytest.raises(LowlightError, match="--vary"):
        synthesize(photos_tiny, tmp_path / "d", count=1, vary=1.5, progress=False)


def test_exposure_field_varies_smoothly_and_never_passes_one():
    from lowlight.training.synth import exposure_field

    field = exposure_field(48, 64, DarkenParams(0.3, 1e9, 0.0, vary=2.0, vary_seed=5))[..., 0]
    assert field.max() <= 1.0 and field.min() > 0 and field.max() / field.min() > 3
    assert np.abs(np.diff(np.log(field), axis=1)).max() < 0.3  # smooth: no jumps between neighbours
    assert np.all(exposure_field(8, 8, DarkenParams(0.3, 1e9, 0.0)) == 0.3)


def test_tint_keeps_luminance_and_colours_the_scene():
    from lowlight.training.synth import ILLUMINANTS, tint_scene

    grey = np.full((4, 4, 3), 0.5)
    warm = tint_scene(grey, DarkenParams(0.1, 1e9, 0.0, tint=0, tint_mix=1.0))
    assert warm[0, 0] @ np.array([0.2126, 0.7152, 0.0722]) == pytest.approx(0.5)
    assert warm[0, 0, 0] > warm[0, 0, 1] > warm[0, 0, 2] and ILLUMINANTS[0][0] > ILLUMINANTS[0][2]
    assert np.array_equal(tint_scene(grey, DarkenParams(0.1, 1e9, 0.0)), grey)
