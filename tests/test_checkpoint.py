import numpy as np
import pytest
import torch

from lowlight.core.checkpoint import load_weights, read_metadata, save_weights
from lowlight.errors import LowlightError
from lowlight.core.enhancer import load_model
from lowlight.models import create_model


def test_round_trip_keeps_weights_buffers_and_metadata(tmp_path):
    torch.manual_seed(0)
    net = create_model("seed-unet", width=4, depth=2)
    net.train()(torch.rand(2, 3, 16, 16))  # move BatchNorm running stats off their defaults
    path = save_weights(tmp_path / "w.safetensors", net, "seed-unet", {"width": 4, "depth": 2},
                        preprocess={"gamma": 2.2}, training={"data": "x"}, metrics={"psnr": 20.5})
    loaded, meta = load_weights(path)
    assert meta["model"] == "seed-unet" and meta["preprocess"] == {"gamma": 2.2}
    assert meta["metrics"]["psnr"] == 20.5
    for (k, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    x = torch.rand(1, 3, 20, 20)
    net.eval()
    assert torch.equal(net(x), loaded(x))


def test_enhancer_applies_the_stored_gamma(tmp_path):
    net = create_model("sid-unet", width=4, depth=1)
    save_weights(tmp_path / "g.safetensors", net, "sid-unet", {"width": 4, "depth": 1}, {"gamma": 2.2})
    save_weights(tmp_path / "n.safetensors", net, "sid-unet", {"width": 4, "depth": 1}, {})
    img = np.random.default_rng(0).integers(0, 60, (24, 24, 3), dtype=np.uint8)
    with_gamma = load_model(tmp_path / "g.safetensors", device="cpu")
    without = load_model(tmp_path / "n.safetensors", device="cpu")
    from lowlight.color import apply_gamma
    assert with_gamma.gamma == 2.2 and without.gamma is None
    assert np.array_equal(with_gamma(img), without(apply_gamma(img, 2.2)))


def test_bad_weights_files(tmp_path):
    with pytest.raises(LowlightError, match="not found"):
        read_metadata(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(LowlightError, match="cannot read weights"):
        read_metadata(bad)
    from safetensors.torch import save_file
    save_file({"a": torch.zeros(1)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(LowlightError, match="not a lowlight weights file"):
        read_metadata(tmp_path / "foreign.safetensors")


def test_model_name_without_pretrained_weights_is_a_clear_error():
    with pytest.raises(LowlightError, match="ships no weights in the package.*lowlight train --model sid-unet"):
        load_model("sid-unet")


def test_weights_that_do_not_match_their_model_are_a_clear_error(tmp_path):
    net = create_model("sid-unet", width=4, depth=1)
    save_weights(tmp_path / "w.safetensors", net, "sid-unet", {"width": 8, "depth": 1}, {})  # wrong width
    with pytest.raises(LowlightError, match="does not match model 'sid-unet'"):
        load_model(tmp_path / "w.safetensors", device="cpu")
