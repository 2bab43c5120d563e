"""Build the shipped default from the trained tone-curve network and the set very-dark stage.

    python bench/ship_night_stage.py bench/weights/curve-unet-base.safetensors src/lowlight/weights/curve-unet.safetensors
    lowlight export --model curve-unet --onnx src/lowlight/weights/curve-unet.onnx --overwrite

The source is the curve-unet trained without the very-dark stage (``bash bench/model_card.sh``
recipes); the target has ``shadows`` and ``night`` on, every trained tensor unchanged, and the
stage's fields set to :data:`lowlight.models.curve_unet.NIGHT_FIELDS` and its lift cap to
``--night-cap`` (docs/MODEL.md says why they are set, not learned). Checked by loading the result.
"""

from __future__ import annotations

import argparse

from lowlight.core.checkpoint import load_weights, read_metadata, save_weights
from lowlight.models import create_model
from lowlight.models.curve_unet import NIGHT_FIELDS, set_shadow_fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a curve-unet weights file without the very-dark stage")
    parser.add_argument("target")
    parser.add_argument("--night-chroma", type=float, default=0.0,
                        help="share of chroma taken from a night's strongly lifted pixels [0: off, as shipped]")
    parser.add_argument("--night-cap", type=float, default=8.0,
                        help="the most a night with black in it is lifted, times (0: off) [8, as shipped]")
    parser.add_argument("--night-fine", type=float, default=1.0,
                        help="share of the learned fine denoiser's smoothing kept on a night with black in it "
                             "(1: all) [1]")
    parser.add_argument("--luma-mix", type=float, default=NIGHT_FIELDS["luma_mix"],
                        help="the wide denoiser's luma share on a night, in (0, 1) "
                             f"[{NIGHT_FIELDS['luma_mix']}, as shipped]")
    args = parser.parse_args()
    if not 0 < args.luma_mix < 1:
        parser.error(f"--luma-mix {args.luma_mix:g}: a share strictly between 0 and 1")
    if not 0 <= args.night_fine <= 1:
        parser.error(f"--night-fine {args.night_fine:g}: a share between 0 and 1")
    if args.night_fine < 1 and not args.night_cap:
        parser.error("--night-fine acts on nights with black in them: it needs --night-cap")
    if 0 < args.night_cap <= 1:
        parser.error(f"--night-cap {args.night_cap:g}: the most a night is lifted must be above 1 (0 turns it off)")
    meta = read_metadata(args.source)
    if meta["model"] != "curve-unet" or meta["model_args"].get("shadows"):
        raise SystemExit(f"{args.source}: expected curve-unet weights without the very-dark stage")
    trained, _ = load_weights(args.source)
    model_args = {**meta["model_args"], "shadows": True, "night": True}
    if args.night_chroma:
        model_args["night_chroma"] = args.night_chroma
    model_args["night_cap"] = args.night_cap
    if args.night_fine < 1:
        model_args["night_fine"] = args.night_fine
    net = create_model("curve-unet", **model_args)
    missing, unexpected = net.load_state_dict(trained.state_dict(), strict=False)
    if unexpected or any(not k.startswith("shadow_head.") for k in missing):
        raise SystemExit(f"{args.source}: tensors do not fit ({missing}, {unexpected})")
    fields = {**NIGHT_FIELDS, "luma_mix": args.luma_mix}
    set_shadow_fields(net.shadow_head, fields)
    training = {**meta["training"], "very_dark_stage": {"set, not learned": fields}}
    save_weights(args.target, net, "curve-unet", model_args, meta["preprocess"], training, meta["metrics"])
    load_weights(args.target)
    print(f"wrote {args.target}: curve-unet {model_args}")


if __name__ == "__main__":
    main()
