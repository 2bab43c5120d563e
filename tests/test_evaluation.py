import numpy as np
import pytest

from lowlight.color import apply_gamma
from lowlight.media.pairs import find_pairs
from lowlight.research.evaluation import evaluate, format_table, score


def test_score_identity_is_perfect():
    img = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    row = score(img, img, gt_mean=True)
    assert np.isinf(row["psnr"]) and row["ssim"] == pytest.approx(1.0)
    assert set(row) == {"psnr", "ssim", "psnr_gtmean", "ssim_gtmean"}


def test_evaluate_rows_means_and_table(lol_tiny):
    res = evaluate(lambda img: apply_gamma(img, 2.2), find_pairs(lol_tiny))
    assert [r["name"] for r in res.images] == ["1", "22", "111"]
    assert res.mean["psnr"] == pytest.approx(np.mean([r["psnr"] for r in res.images]))
    assert "psnr_gtmean" not in res.mean  # GT-mean only when asked
    table = format_table(res)
    assert table.splitlines()[-1].startswith("mean")


@pytest.mark.shared
def test_reference_points_on_eval15(shared):
    """The dark input and gamma 2.2 on eval15 at full resolution, as measured independently
    (../shared/datasets/README.md): 7.77 dB and 13.23 dB."""
    pairs = find_pairs(shared / "LOL-v1", "test")
    assert len(pairs) == 15
    assert evaluate(lambda img: img, pairs).mean["psnr"] == pytest.approx(7.77, abs=0.005)
    assert evaluate(lambda img: apply_gamma(img, 2.2), pairs).mean["psnr"] == pytest.approx(13.23, abs=0.005)


def test_evaluate_scores_the_pixels_enhance_gives(tmp_path, lol_tiny):
    """Evaluation and `lowlight.enhance` run the same path: the saved evaluation outputs are the
    enhance outputs, pixel for pixel."""
    import numpy as np
    import torch
    from PIL import Image

    from lowlight import enhance
    from lowlight.media.pairs import find_pairs
    from lowlight.research.evaluation import evaluate
    from lowlight.core.enhancer import Enhancer
    from lowlight.models import create_model

    torch.manual_seed(0)
    model = Enhancer(create_model("curve-unet", width=8, thumb=16).eval(), "curve-unet", {"width": 8, "thumb": 16})
    pairs = find_pairs(lol_tiny)
    evaluate(model, pairs, save_dir=tmp_path)
    for pair in pairs:
        saved = np.asarray(Image.open(tmp_path / f"{pair.name}.png"))
        assert np.array_equal(saved, enhance(np.asarray(Image.open(pair.low).convert("RGB")), model))


def test_the_reports_150x150_protocol_is_asked_for_and_labelled(lol_tiny, tmp_path, capsys):
    """`--resize 150x150` shrinks both images first (the report's 21.6 dB was measured so); the
    output says which protocol it is, and full resolution stays the default."""
    import json

    from lowlight.cli import main

    seen = []

    def spy(img):
        seen.append(img.shape)
        return apply_gamma(img, 2.2)

    small = evaluate(spy, find_pairs(lol_tiny), resize=(150, 150))
    assert seen and all(s == (150, 150, 3) for s in seen)
    assert small.mean["psnr"] != pytest.approx(evaluate(lambda i: apply_gamma(i, 2.2), find_pairs(lol_tiny)).mean["psnr"])
    assert main(["evaluate", "--data", str(lol_tiny), "--method", "gamma", "--resize", "150x150", "--json", "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["protocol"].startswith("shrunk to 150x150") and out["psnr"] == pytest.approx(small.mean["psnr"])
    assert main(["evaluate", "--data", str(lol_tiny), "--method", "gamma", "-q"]) == 0
    assert "protocol: full resolution" in capsys.readouterr().out


def test_camera_jpeg_inputs_are_what_a_phone_saves(lol_tiny, capsys):
    """`--jpeg 85` enhances the dark input after a JPEG round trip (4:2:0): the model sees blocks
    and quantised shadows, the reference stays the PNG; a quality out of range is one line."""
    from lowlight.cli import main
    from lowlight.research.evaluation import as_camera_jpeg

    seen = []
    pairs = find_pairs(lol_tiny)
    evaluate(lambda img: seen.append(img) or img, pairs[:1], jpeg=85)
    from lowlight.media.photo import read_image

    original = read_image(pairs[0].low)
    assert seen[0].shape == original.shape and not np.array_equal(seen[0], original)
    assert np.array_equal(seen[0], as_camera_jpeg(original, 85))
    assert np.abs(seen[0].astype(int) - original).mean() < 3  # a JPEG, not another image
    assert main(["evaluate", "--data", str(lol_tiny), "--method", "gamma", "--jpeg", "85", "-q"]) == 0
    assert "inputs saved as JPEG quality 85 (4:2:0)" in capsys.readouterr().out
    assert main(["evaluate", "--data", str(lol_tiny), "--method", "gamma", "--jpeg", "0", "-q"]) == 2
    assert "--jpeg takes a JPEG quality between 1 and 100" in capsys.readouterr().err
