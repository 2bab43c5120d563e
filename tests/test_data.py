import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.media.pairs import detect_layout, find_pairs, pair_key, split_pairs
from lowlight.training.dataset import PairedDataset
from lowlight.errors import LowlightError

from conftest import write_pairs


def test_low_high_folders(tmp_path):
    write_pairs(tmp_path, ["1", "2", "10"])
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["1", "2", "10"]  # natural order
    assert pairs[0].low.parent.name == "low" and pairs[0].high.parent.name == "high"


def test_lol_v1_root_picks_split(tmp_path):
    write_pairs(tmp_path / "our485", ["2", "5"])
    write_pairs(tmp_path / "eval15", ["1"])
    assert [p.name for p in find_pairs(tmp_path, "train")] == ["2", "5"]
    assert [p.name for p in find_pairs(tmp_path, "test")] == ["1"]
    assert "LOL-v1 eval15" in detect_layout(tmp_path, "test")[2]


def test_basicsr_input_target_layout(tmp_path):
    write_pairs(tmp_path / "LOLv1" / "Train", ["a", "b"], low="input", high="target")
    write_pairs(tmp_path / "LOLv1" / "Test", ["c"], low="input", high="target")
    assert [p.name for p in find_pairs(tmp_path / "LOLv1", "train")] == ["a", "b"]
    assert [p.name for p in find_pairs(tmp_path / "LOLv1", "test")] == ["c"]


def test_lol_v2_layout_pairs_prefixed_names(tmp_path):
    root = tmp_path / "LOL-v2"
    write_pairs(root / "Real_captured" / "Train", ["00001", "00002"], low="Low", high="Normal",
                low_prefix="low", high_prefix="normal")
    write_pairs(root / "Real_captured" / "Test", ["00690"], low="Low", high="Normal",
                low_prefix="low", high_prefix="normal")
    pairs = find_pairs(root, "test")
    assert [p.name for p in pairs] == ["00690"]
    assert pairs[0].low.name == "low00690.png" and pairs[0].high.name == "normal00690.png"
    write_pairs(root / "Synthetic" / "Train", ["1"], low="Low", high="Normal")
    with pytest.raises(LowlightError, match="several LOL-v2 subsets"):
        find_pairs(root, "train")


def test_pairs_across_formats(tmp_path):
    write_pairs(tmp_path, ["7"], ext=".png")
    (tmp_path / "high" / "7.png").rename(tmp_path / "high" / "7.tmp")
    Image.open(tmp_path / "high" / "7.tmp").save(tmp_path / "high" / "7.webp", lossless=True)
    (tmp_path / "high" / "7.tmp").unlink()
    pairs = find_pairs(tmp_path)
    assert pairs[0].high.suffix == ".webp"


def test_pair_key():
    assert pair_key("low00012") == "00012" and pair_key("normal00012") == "00012"
    assert pair_key("lowlight_cat") == "lowlight_cat"


def test_missing_folder_error(tmp_path):
    with pytest.raises(LowlightError, match="not found"):
        find_pairs(tmp_path / "nope")
    with pytest.raises(LowlightError, match="no image pairs found"):
        find_pairs(tmp_path)


def test_unmatched_names_are_listed(tmp_path):
    write_pairs(tmp_path, ["1", "2"])
    (tmp_path / "high" / "2.png").unlink()
    with pytest.raises(LowlightError, match=r"1 in low/ without a match \(e.g. 2\)"):
        find_pairs(tmp_path)


def test_size_mismatch_and_unreadable(tmp_path):
    write_pairs(tmp_path, ["1"])
    Image.new("RGB", (10, 10)).save(tmp_path / "high" / "1.png")
    with pytest.raises(LowlightError, match="different sizes"):
        find_pairs(tmp_path)
    (tmp_path / "high" / "1.png").write_bytes(b"not an image")
    with pytest.raises(LowlightError, match="cannot read image"):
        find_pairs(tmp_path)


def test_split_pairs_is_seeded_and_disjoint(lol_tiny):
    pairs = find_pairs(lol_tiny)
    a_train, a_val = split_pairs(pairs, 0.34, seed=3)
    b_train, b_val = split_pairs(pairs, 0.34, seed=3)
    assert a_val == b_val and len(a_val) == 1
    assert not set(a_val) & set(a_train) and len(a_train) + len(a_val) == len(pairs)


def test_dataset_crops_are_reproducible_and_aligned(lol_tiny):
    ds = PairedDataset(find_pairs(lol_tiny), crop=32, augment=True, seed=5)
    ds.set_epoch(2)
    low1, high1 = ds[1]
    low2, high2 = ds[1]
    assert low1.shape == (3, 32, 32) and torch.equal(low1, low2) and torch.equal(high1, high2)
    ds.set_epoch(3)
    assert not torch.equal(ds[1][0], low1)


def test_low_and_high_get_the_same_window(tmp_path):
    write_pairs(tmp_path, ["1", "2"], size=(50, 40))  # low = high // 8, pixel for pixel
    ds = PairedDataset(find_pairs(tmp_path), crop=24, augment=True, seed=1)
    for epoch in range(4):
        ds.set_epoch(epoch)
        low, high = ds[0]
        lo = (low * 255).round().to(dtype=torch.int64)
        hi = (high * 255).round().to(dtype=torch.int64)
        assert torch.equal(lo, hi // 8)


def test_jpeg_reaches_only_the_dark_inputs_of_the_first_pairs(lol_tiny):
    """``jpeg`` saves the dark input of a ``data`` pair as a phone JPEG (8x8 blocks, 4:2:0 chroma);
    references and the pairs after ``jpeg_pairs`` (mixed-in extra data) are untouched, and the
    crop and flip drawn are the same as without it."""
    pairs = find_pairs(lol_tiny)
    plain = PairedDataset(pairs, crop=32, augment=True, seed=3)
    jpeg = PairedDataset(pairs, crop=32, augment=True, seed=3, jpeg=1.0, jpeg_pairs=1)
    (low_p, high_p), (low_j, high_j) = plain[0], jpeg[0]
    assert torch.equal(high_p, high_j) and not torch.equal(low_p, low_j)
    assert (low_p - low_j).abs().mean() < 0.05  # the same window, only compressed
    for i in range(1, len(pairs)):
        assert torch.equal(plain[i][0], jpeg[i][0])
    assert all(torch.equal(plain[i][0], PairedDataset(pairs, crop=32, augment=True, seed=3, jpeg=0.0)[i][0])
               for i in range(len(pairs)))


def test_jpeg_setting_is_checked():
    from lowlight.training.config import TrainConfig, apply

    with pytest.raises(LowlightError, match="jpeg is a probability"):
        apply(TrainConfig(), {"data": "x", "jpeg": 1.5}).validate()
    with pytest.raises(LowlightError, match="jpeg and gamma"):
        apply(TrainConfig(), {"data": "x", "jpeg": 0.5, "gamma": 2.2}).validate()


def test_dataset_gamma_and_resize(lol_tiny):
    from lowlight.color import gamma_table
    pairs = find_pairs(lol_tiny)
    raw_low = np.asarray(Image.open(pairs[0].low))
    ds = PairedDataset(pairs, gamma=2.2)
    low, high = ds.load(0)
    assert np.array_equal(low, gamma_table(2.2)[raw_low])
    ds = PairedDataset(pairs, resize=(30, 20))
    assert ds[0][0].shape == (3, 20, 30) and ds[0][1].shape == (3, 20, 30)


def test_small_images_are_padded_to_the_crop(lol_tiny):
    ds = PairedDataset(find_pairs(lol_tiny), crop=56)  # images are 64x48
    assert ds[0][0].shape == (3, 56, 56)
