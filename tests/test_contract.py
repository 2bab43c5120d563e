"""One contract for every enhancer (core/contract.py): what each can do, one finishing step."""

from pathlib import Path

import numpy as np
import pytest
import torch

from lowlight.cli import main
from lowlight.core.classical import make_method
from lowlight.core.contract import EnhanceOptions, ImageEnhancer, finish, process
from lowlight.core.enhancer import Enhancer
from lowlight.errors import LowlightError
from lowlight.models import create_model

SAMPLE = Path(__file__).parents[1] / "samples" / "dark" / "lime-3.png"


def _model() -> Enhancer:
    torch.manual_seed(0)
    return Enhancer(create_model("curve-unet", width=4, thumb=8).eval(), "curve-unet")


@pytest.mark.parametrize("enhancer", [_model(), make_method("gamma"), make_method("clahe")], ids=lambda e: e.name)
def test_models_and_methods_keep_the_contract_and_share_the_finish(enhancer):
    assert isinstance(enhancer, ImageEnhancer)
    torch.manual_seed(1)
    x = torch.rand(2, 3, 24, 32) * 0.3
    opts = EnhanceOptions(strength=0.6, exposure=0.5)
    own = torch.cat([enhancer.render(x[i:i + 1], EnhanceOptions()) for i in range(2)])
    assert torch.allclose(enhancer.process(x, opts), finish(x, own, opts), atol=1e-6)
    assert torch.equal(process(enhancer, x, strength=0.0), x)  # strength 0 is the input, for every kind


def test_exposure_adds_stops_in_linear_light_for_every_enhancer():
    x = torch.full((1, 3, 16, 16), 0.2)
    ident = make_method("identity")
    srgb = lambda t: torch.where(t <= 0.04045, t / 12.92, ((t + 0.055) / 1.055) ** 2.4)  # noqa: E731
    out = ident.process(x, exposure=1.0)
    assert srgb(out).mean().item() == pytest.approx(2 * srgb(x).mean().item(), rel=1e-3)


def test_a_method_refuses_brightness_and_tiles_in_one_line():
    gamma = make_method("gamma")
    with pytest.raises(LowlightError, match="chooses its own brightness"):
        gamma.process(torch.rand(1, 3, 8, 8), brightness=0.4)
    with pytest.raises(LowlightError, match="cannot run in tiles"):
        gamma.process(torch.rand(1, 3, 8, 8), tile=64, overlap=16)


@pytest.mark.parametrize("flags", [["--brightness", "0.4"], ["--tile", "512"]])
def test_cli_method_with_a_model_only_flag_is_one_line_and_exit_2(flags, tmp_path, capsys):
    code = main(["enhance", str(SAMPLE), "-o", str(tmp_path / "o.png"), "--method", "gamma", *flags, "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0] and "gamma" in err[0]
    assert not (tmp_path / "o.png").exists()


def test_classical_methods_take_batches_one_image_at_a_time():
    seen = []

    class Counting(type(make_method("identity"))):
        def render(self, rgb, options):
            seen.append(rgb.shape[0])
            return super().render(rgb, options)

    counting = Counting("identity", {})
    x = torch.rand(3, 3, 8, 8)
    assert torch.allclose(counting.process(x), x, atol=1 / 255)
    assert seen == [1, 1, 1]
    assert np.array_equal(counting((x[0].permute(1, 2, 0) * 255).round().byte().numpy()),
                          (x[0].permute(1, 2, 0) * 255).round().byte().numpy())
