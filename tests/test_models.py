import hashlib

import pytest
import torch

from lowlight.errors import LowlightError
from lowlight.models import count_parameters, create_model, gmacs, list_models, model_args


def test_registry_lists_and_rejects():
    assert {"seed-unet", "sid-unet"} <= set(list_models())
    with pytest.raises(LowlightError, match="unknown model"):
        create_model("nope")
    with pytest.raises(LowlightError, match="no argument 'widht'"):
        model_args("sid-unet", widht=3)


def test_seed_unet_matches_the_report_size():
    with torch.device("meta"):
        net = create_model("seed-unet")
    assert 125e6 < count_parameters(net) < 135e6  # "about 130M parameters"
    with torch.device("meta"):
        sid = create_model("sid-unet")
    assert count_parameters(sid) == 7_760_163  # SID's U-Net with a 3-channel sRGB head
    assert gmacs(sid, 400, 600) == pytest.approx(44.81, abs=0.01)


@pytest.mark.parametrize("name,args", [("seed-unet", dict(width=4, depth=3)),
                                        ("sid-unet", dict(width=4, depth=2)),
                                        ("gain-unet", dict(width=4, blocks=(1, 1)))])
@pytest.mark.parametrize("size", [(17, 23), (1, 1), (32, 32), (45, 8)])
def test_any_input_size_round_trips(name, args, size):
    torch.manual_seed(0)
    net = create_model(name, **args).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape


def test_padding_does_not_leak_into_the_crop():
    """A fully convolutional net padded then cropped equals running it on the padded image."""
    from lowlight.models.common import crop_to, pad_to_multiple
    x = torch.rand(1, 3, 13, 19)
    padded, size = pad_to_multiple(x, 8)
    assert padded.shape[-2:] == (16, 24)
    assert torch.equal(crop_to(padded, size), x)


# Parameter names and shapes of each architecture at small sizes: a renamed layer breaks every
# checkpoint users hold, so a change here must be deliberate (update the digest and say why).
ARCH_DIGESTS = {
    ("seed-unet", (("width", 4), ("depth", 2))): "a08c5321849a52fe",
    ("sid-unet", (("width", 4), ("depth", 2))): "bfaf041f7c87bce6",
    ("gain-unet", (("width", 4), ("blocks", (1, 1)))): "499fa2bc81dc6c4b",
}


@pytest.mark.parametrize("key", list(ARCH_DIGESTS))
def test_parameter_names_and_shapes_are_stable(key):
    name, args = key
    net = create_model(name, **dict(args))
    desc = ";".join(f"{k}:{tuple(v.shape)}" for k, v in net.state_dict().items())
    assert hashlib.sha256(desc.encode()).hexdigest()[:16] == ARCH_DIGESTS[key], desc


def test_gain_unet_starts_as_a_plain_gain_and_fits_the_budget():
    torch.manual_seed(0)
    net = create_model("gain-unet", init_gain=3.0).eval()
    x = torch.rand(1, 3, 37, 50) * 0.2
    with torch.no_grad():
        y = net(x)
    ratio = (y / x.clamp_min(1e-3))[x > 0.05]
    assert ratio.median().item() == pytest.approx(3.0, rel=0.15)  # the head starts near init_gain
    with torch.device("meta"):
        full = create_model("gain-unet")
    assert count_parameters(full) <= 2_000_000
