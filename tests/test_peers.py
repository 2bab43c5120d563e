"""Published models inside lowlight (models/iat.py, sci.py, zero_dce.py): faithful to the authors'
code, named with their own files everywhere a model can be named, and clear about wrong files.

The reference outputs in tests/data/peers were made by the authors' own code from their
repositories (`python bench/peer_references.py`); the weights are the authors' and stay outside
the repository (../shared/peers), so the tests that need them skip, saying why, where it is absent.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lowlight.errors import LowlightError
from lowlight.models import create_model, get_entry

HERE = Path(__file__).resolve().parent
PEERS = HERE.parents[1] / "shared" / "peers"
REFERENCES = HERE / "data" / "peers"
WEIGHTS = {"iat": "iat/best_Epoch_lol_v1.pth", "sci": "sci/medium.pt", "zero-dce": "zero-dce/Epoch99.pth",
           "zero-dce++": "zero-dce-pp/Epoch99.pth"}
needs_weights = pytest.mark.skipif(not PEERS.is_dir(), reason=f"the peers' weights are not here ({PEERS})")


def _inputs() -> dict:
    sys.path.insert(0, str(HERE.parent / "bench"))
    try:
        from peer_references import inputs
    finally:
        sys.path.pop(0)
    return inputs()


@needs_weights
@pytest.mark.parametrize("name", list(WEIGHTS))
def test_each_peer_matches_the_authors_code_within_1_255(name):
    import lowlight
    from lowlight.media.photo import read_photo

    model = lowlight.load_model(name, weights=PEERS / WEIGHTS[name], device="cpu")
    for stem, image in _inputs().items():
        reference = read_photo(REFERENCES / name / f"{stem}.png").rgb
        ours = model.process(torch.from_numpy(image).permute(2, 0, 1)[None], tile=0)[0].permute(1, 2, 0).numpy()
        assert np.abs(ours - reference).max() * 255 <= 1.0, (name, stem)


@pytest.mark.parametrize("name,params", [("iat", 91154), ("sci", 258), ("zero-dce", 79416), ("zero-dce++", 10561)])
def test_peer_architectures_have_the_published_sizes(name, params):
    from lowlight.models import count_parameters

    net = create_model(name)
    assert count_parameters(net) == params and get_entry(name).peer and get_entry(name).expects


def test_a_file_of_another_architecture_is_one_clear_line(tmp_path):
    from lowlight.core.checkpoint import load_peer

    torch.save(create_model("zero-dce").state_dict(), tmp_path / "zdce.pth")
    with pytest.raises(LowlightError, match=r"is not iat weights: .*missing.*iat expects best_Epoch_lol_v1"):
        load_peer("iat", tmp_path / "zdce.pth")
    wrong = create_model("zero-dce").state_dict()
    wrong["e_conv7.weight"] = torch.zeros(3, 64, 3, 3)
    torch.save(wrong, tmp_path / "shape.pth")
    with pytest.raises(LowlightError, match=r"shapes differ \(e_conv7.weight is \(3, 64, 3, 3\)"):
        load_peer("zero-dce", tmp_path / "shape.pth")
    (tmp_path / "text.pth").write_text("not weights")
    with pytest.raises(LowlightError, match="cannot read .* as PyTorch weights"):
        load_peer("sci", tmp_path / "text.pth")
    with pytest.raises(LowlightError, match="weights not found"):
        load_peer("sci", tmp_path / "nope.pt")


def test_peers_are_named_with_their_file_and_only_so():
    import lowlight

    with pytest.raises(LowlightError, match="--model iat --weights FILE"):
        lowlight.load_model("iat")
    with pytest.raises(LowlightError, match="name the model it belongs to"):
        lowlight.load_model("Epoch99.pth")


def test_a_saved_peer_file_runs_through_every_surface(tmp_path):
    """A peer built here and saved as its authors do (a plain state dict), through the CLI's
    enhance, evaluate and compare, and lowlight models."""
    from PIL import Image

    from lowlight.cli import main

    torch.manual_seed(0)
    weights = tmp_path / "Epoch99.pth"
    torch.save(create_model("zero-dce").state_dict(), weights)
    dark = (np.random.default_rng(0).random((24, 36, 3)) * 60).astype(np.uint8)
    Image.fromarray(dark).save(tmp_path / "d.png")
    pairs = tmp_path / "pairs"
    for sub in ("low", "high"):
        (pairs / sub).mkdir(parents=True)
        Image.fromarray(dark if sub == "low" else dark * 3).save(pairs / sub / "1.png")
    assert main(["enhance", str(tmp_path / "d.png"), "--model", "zero-dce", "--weights", str(weights),
                 "-o", str(tmp_path / "o.png"), "-q"]) == 0
    assert Image.open(tmp_path / "o.png").size == (36, 24)
    assert main(["evaluate", "--data", str(pairs), "--model", "zero-dce", "--weights", str(weights), "--json"]) == 0
    assert main(["compare", "--data", str(pairs), "--weights", f"ZDCE=zero-dce:{weights}", "--methods", "gamma",
                 "--out", str(tmp_path / "cmp"), "--grid", "0", "-q"]) == 0
    assert "ZDCE" in (tmp_path / "cmp" / "results.md").read_text()
    listed = subprocess.run([sys.executable, "-m", "lowlight", "models"], capture_output=True, text=True).stdout
    assert "--model iat --weights FILE" in listed and "best_Epoch_lol_v1.pth" in listed


def test_iat_runs_whole_images_and_refuses_tiles(tmp_path):
    import lowlight
    from lowlight.core.enhancer import Enhancer

    torch.manual_seed(0)
    iat = Enhancer(create_model("iat").eval(), "iat")
    assert not iat.tiles
    with pytest.raises(LowlightError, match="cannot run in tiles"):
        iat.process(torch.rand(1, 3, 32, 32), tile=64, overlap=16)
    assert lowlight.enhance(torch.rand(3, 20, 30), iat).shape == (3, 20, 30)


def test_subnormal_weights_are_flushed_on_loading(tmp_path):
    """Published files can hold subnormal weights (Zero-DCE's has thousands), which CPUs compute
    with many times slower; they are loaded as zeros."""
    from lowlight.core.checkpoint import load_peer

    state = create_model("zero-dce").state_dict()
    state["e_conv3.weight"][0, 0] = 1e-40
    torch.save(state, tmp_path / "Epoch99.pth")
    net, _ = load_peer("zero-dce", tmp_path / "Epoch99.pth")
    tiny = torch.finfo(torch.float32).tiny
    assert not any(((p.abs() > 0) & (p.abs() < tiny)).any() for p in net.parameters())
