"""Reference outputs of the peers, made by the authors' own code, for lowlight's faithfulness tests.

    python bench/peer_references.py --repos /work/.mirror --weights ../shared/peers --out tests/data/peers

``--repos``: a folder holding the git directories the search tool's ``fetch`` brings
(``cuiziteng+Illumination-Adaptive-Transformer/repo``, ``vis-opt-group+SCI/repo``,
``Li-Chongyi+Zero-DCE/repo``, ``Li-Chongyi+Zero-DCE_extension/repo``; or pass each with
``--iat``, ``--sci``, ``--zero-dce``, ``--zero-dce-pp``). Nothing of their code is copied into
lowlight: the model files are read from those git directories into a temporary folder, imported
there and run, and only their outputs are written. IAT's code imports timm, whose import needs
torchvision (which does not install beside this torch); a stub of the few helpers it uses
(``trunc_normal_``, ``DropPath``, ``to_2tuple``, and names it imports but does not call) stands
in for it, as the peers issue describes.

Inputs: ``tests/data/lol/low/*.png`` (three eval15 crops) cut to 48x60, and a 96x144 crop of
``samples/dark/lime-3.png``; sides are multiples of 12, as Zero-DCE++'s own test crops them. Each
output is written as a 16-bit PNG ``OUT/<model>/<input>.png`` (the float result rounded to
1/65535), so a test can ask for agreement within 1/255.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
REPOS = {"iat": "cuiziteng+Illumination-Adaptive-Transformer", "sci": "vis-opt-group+SCI",
         "zero-dce": "Li-Chongyi+Zero-DCE", "zero-dce++": "Li-Chongyi+Zero-DCE_extension"}
FILES = {"iat": ["IAT_enhance/model/__init__.py", "IAT_enhance/model/IAT_main.py", "IAT_enhance/model/blocks.py",
                 "IAT_enhance/model/global_net.py"],
         "sci": ["model.py", "loss.py"], "zero-dce": ["Zero-DCE_code/model.py"], "zero-dce++": ["Zero-DCE++/model.py"]}
WEIGHTS = {"iat": "iat/best_Epoch_lol_v1.pth", "sci": "sci/medium.pt", "zero-dce": "zero-dce/Epoch99.pth",
           "zero-dce++": "zero-dce-pp/Epoch99.pth"}


def inputs() -> dict[str, np.ndarray]:
    """The reference inputs, float RGB ``(H, W, 3)`` in [0, 1], by name."""
    found = {}
    for path in sorted((ROOT / "tests" / "data" / "lol" / "low").glob("*.png")):
        found[f"lol-{path.stem}"] = np.asarray(Image.open(path).convert("RGB"))[:48, :60]
    lime = np.asarray(Image.open(ROOT / "samples" / "dark" / "lime-3.png").convert("RGB"))
    found["lime-3"] = lime[100:196, 200:344]
    return {k: v.astype(np.float32) / 255.0 for k, v in found.items()}


def stub_timm() -> None:
    """Just enough of timm for IAT's imports: its layers' helpers, and names imported unused."""
    layers = types.ModuleType("timm.models.layers")
    layers.trunc_normal_ = torch.nn.init.trunc_normal_
    layers.DropPath = lambda p=0.0: torch.nn.Identity()  # identity at test time, as timm's is in eval mode
    layers.to_2tuple = lambda x: x if isinstance(x, tuple) else (x, x)
    vit = types.ModuleType("timm.models.vision_transformer")
    vit.VisionTransformer, vit._cfg = object, (lambda **kw: kw)
    registry = types.ModuleType("timm.models.registry")
    registry.register_model = lambda f: f
    timm, models = types.ModuleType("timm"), types.ModuleType("timm.models")
    for name, mod in {"timm": timm, "timm.models": models, "timm.models.layers": layers,
                      "timm.models.vision_transformer": vit, "timm.models.registry": registry}.items():
        sys.modules[name] = mod


def extract(git_dir: Path, files: list[str], into: Path) -> None:
    for f in files:
        data = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{f}"], capture_output=True,
                              check=False).stdout
        target = into / Path(*Path(f).parts[1:]) if f.startswith(("IAT_enhance/", "Zero-DCE")) else into / f
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def authors_model(name: str, git_dir: Path, weights: Path, scratch: Path):
    """The authors' network for ``name`` with its weights, as their test scripts build it."""
    folder = scratch / name.replace("+", "p")
    extract(git_dir, FILES[name], folder)
    sys.path.insert(0, str(folder))
    for mod in ("model", "model.IAT_main", "model.blocks", "model.global_net", "loss"):
        sys.modules.pop(mod, None)
    try:
        if name == "iat":
            stub_timm()
            from model.IAT_main import IAT

            net = IAT(type="lol")
            net.load_state_dict(torch.load(weights, map_location="cpu"))
            return net.eval(), (lambda x: net(x)[2])
        if name == "sci":
            from model import Finetunemodel

            load = torch.load  # its constructor loads the file as saved (on CUDA): map it to the CPU
            torch.load = lambda f, **kw: load(f, map_location="cpu", **kw)
            try:
                net = Finetunemodel(str(weights))
            finally:
                torch.load = load
            return net.eval(), (lambda x: net(x)[1])
        import model

        net = model.enhance_net_nopool() if name == "zero-dce" else model.enhance_net_nopool(12)
        net.load_state_dict(torch.load(weights, map_location="cpu"))
        return net.eval(), ((lambda x: net(x)[1]) if name == "zero-dce" else (lambda x: net(x)[0]))
    finally:
        sys.path.remove(str(folder))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repos", type=Path, default=Path("/work/.mirror"), help="folder of fetched git directories")
    p.add_argument("--weights", type=Path, default=ROOT.parent / "shared" / "peers")
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "peers")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    with tempfile.TemporaryDirectory() as scratch:
        for name in REPOS:
            git_dir = args.repos / REPOS[name] / "repo"
            _, run = authors_model(name, git_dir, args.weights / WEIGHTS[name], Path(scratch))
            for stem, image in inputs().items():
                x = torch.from_numpy(image).permute(2, 0, 1)[None]
                y = run(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
                out = args.out / name / f"{stem}.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                _save16(np.round(y * 65535).astype(np.uint16), out)
            print(f"{name}: {len(inputs())} reference outputs in {args.out / name}")
    return 0


def _save16(rgb: np.ndarray, path: Path) -> None:
    """A 16-bit RGB PNG (Pillow writes 16-bit RGB only through its raw encoder; lowlight's own writer does)."""
    from lowlight.media.photo import Photo, write_photo

    write_photo(Photo(rgb.astype(np.float32) / 65535.0, bits=16, lossless=True), path)


if __name__ == "__main__":
    sys.exit(main())
