import csv

from lowlight.core.classical import make_method
from lowlight.research.compare import Contender, compare, image_grid, write_report
from lowlight.media.pairs import find_pairs


def test_compare_two_methods_writes_table_csv_and_grid(lol_tiny, tmp_path):
    pairs = find_pairs(lol_tiny)
    contenders = [Contender("gamma", make_method("gamma")), Contender("hist-eq", make_method("hist-eq"))]
    rows = compare(contenders, pairs, progress=False)
    assert [r["method"] for r in rows] == ["gamma", "hist-eq"]
    from lowlight.research.evaluation import evaluate
    assert rows[0]["psnr"] == evaluate(make_method("gamma"), pairs).mean["psnr"]
    assert rows[0]["params"] is None and rows[0]["ms_per_image"] >= 0
    grid = image_grid(contenders, pairs[:2], cell=64)
    assert grid.size == (64 * 4, 18 + 48 * 2)  # input, two methods, reference
    write_report(rows, grid, tmp_path)
    md = (tmp_path / "results.md").read_text()
    assert "| gamma |" in md and "PSNR (dB)" in md
    table = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert table[1]["method"] == "hist-eq" and float(table[1]["psnr"]) == rows[1]["psnr"]
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_compare_cli_with_a_model(lol_tiny, tmp_path, capsys):
    import torch

    from lowlight.core.checkpoint import save_weights
    from lowlight.cli import main
    from lowlight.models import create_model
    torch.manual_seed(0)
    w = tmp_path / "run" / "best.safetensors"
    save_weights(w, create_model("sid-unet", width=4, depth=1), "sid-unet", {"width": 4, "depth": 1})
    assert main(["compare", "--data", str(lol_tiny), "--methods", "gamma", "--weights", str(w),
                 "--out", str(tmp_path / "cmp"), "--grid", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "| run/best |" in out and "| 1,727 |" in out
    assert (tmp_path / "cmp" / "grid.png").is_file()


def test_gt_mean_columns_are_separate_and_photos_get_a_grid(lol_tiny, photos_tiny, tmp_path, capsys):
    from lowlight.cli import main

    assert main(["compare", "--data", str(lol_tiny), "--methods", "identity", "gamma", "--gt-mean",
                 "--out", str(tmp_path / "a"), "--grid", "0", "-q"]) == 0
    out = capsys.readouterr().out
    assert "| PSNR (dB) |" in out and "PSNR GT-mean (dB)" in out
    rows = list(csv.DictReader((tmp_path / "a" / "results.csv").open()))
    assert float(rows[0]["psnr_gtmean"]) > float(rows[0]["psnr"])  # scaling the dark input helps a lot
    assert not (tmp_path / "a" / "grid.png").exists()
    assert main(["compare", "--images", str(photos_tiny), "--methods", "gamma", "--out", str(tmp_path / "b"),
                 "--cell", "64", "-q"]) == 0
    from PIL import Image

    grid = Image.open(tmp_path / "b" / "grid.png")
    assert grid.width == 2 * 64 and not (tmp_path / "b" / "results.md").exists()
