import hashlib
import math

import pytest
import torch
import torch.nn.functional as F

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


@pytest.mark.parametrize("name,args", [("sid-unet", dict(width=4, depth=2)), ("gain-unet", dict(width=4)),
                                       ("curve-unet", dict(width=4, thumb=8))])
def test_padding_is_by_reflection_and_cropped_from_the_top_left(name, args):
    """A net on an odd-sized image equals the net on a reflect-padded copy, cropped back: the
    padding is what the docs say and the crop takes the right corner."""
    torch.manual_seed(0)
    net = create_model(name, **args).eval()
    x = torch.rand(1, 3, 13, 19)
    m = net.multiple
    padded = torch.nn.functional.pad(x, (0, (-19) % m, 0, (-13) % m), mode="reflect")
    stats = net.context_stats(x)
    with torch.no_grad():
        whole = net(x)
        by_hand = net.forward_padded(padded, stats)[..., :13, :19]
    assert torch.allclose(whole, by_hand, atol=1e-6)
    shifted = torch.nn.functional.pad(x, (m, (-19) % m, 0, (-13) % m), mode="reflect")
    with torch.no_grad():
        wrong = net.forward_padded(shifted, stats)[..., :13, :19]
    assert not torch.allclose(whole, wrong, atol=1e-3)


# Parameter names and shapes of each architecture at small sizes: a renamed layer breaks every
# checkpoint users hold, so a change here must be deliberate (update the digest and say why).
ARCH_DIGESTS = {
    ("seed-unet", (("width", 4), ("depth", 2))): "a08c5321849a52fe",
    ("sid-unet", (("width", 4), ("depth", 2))): "bfaf041f7c87bce6",
    ("gain-unet", (("width", 4), ("blocks", (1, 1)))): "499fa2bc81dc6c4b",
    ("curve-unet", (("width", 4), ("thumb", 8), ("shadows", False), ("night", False))): "93d0cb38222c43ae",
    ("curve-unet", (("width", 4), ("thumb", 8), ("exposure", True), ("shadows", False), ("night", False))): "84f53044e180584a",  # + predictor and FiLM
    ("curve-unet", (("width", 4), ("thumb", 8), ("headroom", True), ("shadows", False), ("night", False))): "b4a904c7388771a4",  # + the headroom FiLM
    ("curve-unet", (("width", 4), ("thumb", 8), ("shadows", True), ("night", True))): "61ed5c028d601660",  # + the very-dark stage's head
}


def test_weights_from_before_an_argument_load_as_they_were_written(tmp_path):
    """A file that does not name an argument predates it: it loads as the constructor's own
    default computed (here ``coarse_curve``, whose registry default is now True), not as the
    registry's current default."""
    from lowlight.core.checkpoint import load_weights, save_weights

    old = create_model("curve-unet", width=4, thumb=8, coarse_curve=False, shadows=False, night=False)
    path = save_weights(tmp_path / "old.safetensors", old, "curve-unet", {"width": 4, "thumb": 8})
    net, _ = load_weights(path)
    assert not net.coarse_curve and not net.exposure


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


VARIANTS = [{"shadows": False, "night": False}, {"exposure": True}, {"headroom": True},
            {"shadows": True, "night": False}, {}]  #: curve-unet's optional parts


def _scrambled_curve_unet(seed: int = 0, exposure: bool = False, **variant):
    """A curve-unet with every parameter randomised: its guarantees must not depend on training."""
    torch.manual_seed(seed)
    net = create_model("curve-unet", width=8, thumb=16, exposure=exposure, **variant).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return net


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("level", [0.02, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("tint", [(1.0, 1.0, 1.0), (1.0, 0.8, 0.55)])
def test_curve_unet_flat_in_flat_out_and_grey_stays_grey(level, tint, variant):
    net = _scrambled_curve_unet(**variant)
    x = torch.full((1, 3, 37, 53), level) * torch.tensor(tint).view(1, 3, 1, 1)
    with torch.no_grad():
        y = net(x)
    spread = (y.amax(dim=(2, 3)) - y.amin(dim=(2, 3))).max().item()
    assert spread < 1e-5  # no pattern, no bent border
    if tint == (1.0, 1.0, 1.0):
        assert (y.amax(dim=1) - y.amin(dim=1)).max().item() < 1e-5  # neutral stays neutral


@pytest.mark.parametrize("variant", VARIANTS)
def test_curve_unet_never_darkens_and_never_clips_what_was_not_clipped(variant):
    """The tone and colour stages, with the denoiser switched off (it averages neighbours, so it
    may move a pixel at an edge; its own test is below)."""
    net = _scrambled_curve_unet(1, **variant)
    with torch.no_grad():
        k = net.knots.numel() - 1
        net.head.weight[k:].zero_()
        net.head.bias[k:].copy_(torch.tensor([0.0, -30.0, 0.0, -30.0]))  # mix sigmoid(-30): no smoothing
        net.head.bias[:k].add_(torch.randn(k) * 2)  # a curve far from the initial one
        if net.shadows:  # the wide denoiser off too; the toe and desaturation stay scrambled
            net.shadow_head.weight[1:3].zero_()
            net.shadow_head.bias[1:3].fill_(-30.0)
            net.shadow_head.bias[3:].add_(torch.tensor([4.0, 6.0, 0.0]))  # a high black level, strong greying
    torch.manual_seed(2)
    coarse = torch.rand(2, 3, 6, 8) ** 2  # a smooth scene, so the denoiser has nothing to move
    x = torch.nn.functional.interpolate(coarse, size=(48, 64), mode="bilinear", align_corners=False)
    x[0, :, :8] = 1.0  # a clipped sky
    with torch.no_grad():
        y = net(x)
    assert y.min().item() >= 0.0 and y.max().item() <= 1.0
    luma = lambda t: (t * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1)  # noqa: E731
    assert (luma(y) >= luma(x) - 0.02).all()
    assert y[0, :, :8].min().item() > 0.99  # clipped stays white
    below = x[:, :, 8:].amax(dim=1) < 253 / 255
    assert (y[:, :, 8:].amax(dim=1)[below] * 255 < 254.5).all()  # nothing well below white is pushed to it


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curve_unet_tone_curve_is_monotone_concave_and_spans_zero_to_one(seed):
    from lowlight.models.curve_unet import curve_knots, curve_params, tone_curve

    knots = curve_knots(16)
    v = torch.linspace(0, 1, 257).view(1, 1, 1, -1)
    params = (torch.randn(1, 16, 1, 1, generator=torch.Generator().manual_seed(seed)) * 3).expand(1, 16, 1, 257)
    f = tone_curve(v, params, knots)
    assert f[..., 0].item() == 0.0 and f[..., -1].item() == pytest.approx(1.0)
    assert (f[..., 1:] >= f[..., :-1]).all() and (f >= v - 1e-6).all()  # monotone, never below the identity
    for gamma in (1.0, 2.2):
        fit = tone_curve(v, curve_params(knots, gamma).view(1, 16, 1, 1).expand(1, 16, 1, 257), knots)
        assert torch.allclose(fit, v ** (1 / gamma), atol=0.03)


def test_coarse_curve_is_the_same_curve_and_a_blend_of_curves_stays_one():
    """Built from knot values and looked up per pixel (coarse_curve): equal to the direct curve
    for one set of parameters, and a mix of two curves (what bilinear upsampling makes) is still
    rising, concave, at or above the identity, from 0 to 1."""
    from lowlight.models.curve_unet import curve_knots, knot_values, lookup_curve, tone_curve

    knots = curve_knots(16)
    v = torch.linspace(0, 1, 513).view(1, 1, 1, -1)
    gen = torch.Generator().manual_seed(5)
    a, b = (torch.randn(1, 16, 1, 1, generator=gen) * 3 for _ in range(2))
    direct = tone_curve(v, a.expand(1, 16, 1, 513), knots)
    looked = lookup_curve(v, knot_values(a, knots).expand(1, 17, 1, 513))
    assert torch.allclose(direct, looked, atol=1e-6)
    mix = 0.3 * knot_values(a, knots) + 0.7 * knot_values(b, knots)
    f = lookup_curve(v, mix.expand(1, 17, 1, 513))
    assert f[..., 0].item() == 0.0 and f[..., -1].item() == pytest.approx(1.0)
    assert (f[..., 1:] >= f[..., :-1]).all() and (f >= v - 1e-6).all()
    slopes = (mix[0, 1:, 0, 0] - mix[0, :-1, 0, 0]) / (knots[1:] - knots[:-1])
    assert (slopes[1:] <= slopes[:-1] + 1e-5).all()  # concave: slopes only fall


def test_exposure_target_comes_from_the_reference_in_training_and_the_predictor_otherwise():
    """An ``exposure`` curve-unet: training conditions on the reference's brightness (the guess is
    then unused, and only its own loss trains the predictor); inference uses the guess, and a
    caller's target overrides it."""
    from lowlight.models.curve_unet import log_mean_luma

    net = _scrambled_curve_unet(3, exposure=True, shadows=False, night=False)
    torch.manual_seed(4)
    low = torch.rand(2, 3, 32, 48) * 0.2
    high = (low * 3).clamp(0, 1)
    ctx = net.training_context(low, high)
    assert torch.equal(ctx[:, -2], torch.ones(2))
    assert torch.allclose(ctx[:, -1:], log_mean_luma(high) - log_mean_luma(low))
    with torch.no_grad():
        taught = net(low, ctx)
        for p in net.predictor.parameters():
            p.add_(1.0)  # a different guess changes nothing once the target is given
        assert torch.equal(net(low, ctx), taught)
        stats = net.context_stats(low)
        assert torch.equal(stats[:, -2:], torch.zeros(2, 2))  # no target: the model guesses
        guess = net.predictor(stats[:, :-3], stats[:, -3:-2])
        assert torch.allclose(net(low, stats), net(low, net.with_exposure(stats, guess)), atol=1e-6)
        brighter = net(low, net.with_exposure(stats, 2.0))
        assert not torch.allclose(brighter, net(low, net.with_exposure(stats, 0.0)))
    net.train()
    net(low, ctx)
    assert net.aux_loss.item() == pytest.approx((net.predictor(ctx[:, :-3], ctx[:, -3:-2]) - ctx[:, -1:]).abs().mean().item(), rel=1e-5)
    net.aux_loss.backward()
    assert net.predictor.mlp[-1].weight.grad.abs().sum() > 0


def test_noise_level_reads_grain_not_brightness():
    from lowlight.models.curve_unet import noise_level

    torch.manual_seed(6)
    smooth = torch.linspace(0.1, 0.6, 64).view(1, 1, 1, 64).expand(1, 3, 48, 64)
    grainy = (smooth + 0.05 * torch.randn(1, 1, 48, 64)).clamp(0, 1)
    assert noise_level(grainy).item() > noise_level(smooth).item() + 2.0
    assert abs(noise_level(smooth * 0.5).item() - noise_level(smooth).item()) < 1.0


def test_bilateral_is_an_edge_aware_average():
    from lowlight.models.curve_unet import bilateral

    torch.manual_seed(0)
    x = torch.rand(1, 3, 20, 30)
    ones = torch.ones(1, 1, 20, 30)
    guide = x.mean(1, keepdim=True)
    y = bilateral(x, guide, ones, ones * 50.0)
    pooled_max = torch.nn.functional.max_pool2d(x, 5, 1, 2)
    assert (y <= pooled_max + 1e-6).all() and y.std() < x.std()  # a convex average: it smooths
    assert torch.allclose(bilateral(x, guide, ones * 1e4, ones), x, atol=1e-6)  # strong spatial weight: identity
    step = torch.zeros(1, 3, 20, 30)
    step[..., 15:] = 1.0
    kept = bilateral(step, step[:, :1], ones * 0.01, ones * 1e4)
    assert torch.allclose(kept, step, atol=1e-4)  # a strong edge in the guide is not blurred


def test_bilateral_inference_path_matches_the_differentiable_one():
    """Without autograd, :func:`bilateral` takes an in-place path (what large photos spend their
    time on); it must compute the same average, in either memory layout."""
    from lowlight.models.curve_unet import bilateral

    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 24, 36, generator=g)
    guide = x.mean(1, keepdim=True).sqrt()
    range_ = torch.exp(7.0 + 2.0 * torch.randn(1, 1, 24, 36, generator=g))
    for dilation in (1, 2):
        reference = bilateral(x.requires_grad_(False).clone().requires_grad_(True), guide, 0.5, range_,
                              dilation=dilation).detach()
        with torch.no_grad():
            for layout in (torch.contiguous_format, torch.channels_last):
                fast = bilateral(x.contiguous(memory_format=layout), guide, 0.5, range_, dilation=dilation)
                assert torch.allclose(fast, reference, atol=1e-6)


def test_headroom_cues_tell_a_cut_frame_from_a_photo_dark_on_purpose():
    """A frame given a tenth of the light has its brightest content near a tenth of white and is
    grainy; the same scene, low-key but exposed, reaches white and is clean."""
    from lowlight.models.curve_unet import headroom_cues

    torch.manual_seed(7)
    scene = torch.linspace(0.02, 0.4, 128).view(1, 1, 1, 128).repeat(1, 3, 96, 1)  # dark, smooth
    scene[..., 10:60, 90:120] = 1.0  # a white window
    cut = (scene * 0.1 + 0.01 * torch.randn(1, 1, 96, 128)).clamp(0, 1)
    q_scene, q_cut = headroom_cues(scene), headroom_cues(cut)
    assert q_scene[0, 1] > math.log(0.9) and q_cut[0, 1] < math.log(0.2)  # 99th percentile of the peaks
    assert q_cut[0, 2] > q_scene[0, 2]  # the noise level


def test_adding_headroom_to_a_trained_model_changes_nothing_until_it_is_trained():
    """The headroom FiLM starts as the identity, so stage 3 can start from stage 2's weights."""
    torch.manual_seed(8)
    plain = create_model("curve-unet", width=8, thumb=16).eval()
    with torch.no_grad():
        for p in plain.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    cued = create_model("curve-unet", width=8, thumb=16, headroom=True).eval()
    missing, unexpected = cued.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("headroom_film.") for k in missing)
    x = torch.rand(1, 3, 40, 56) * 0.3
    with torch.no_grad():
        assert torch.allclose(cued(x), plain(x), atol=1e-6)


def test_adding_the_shadow_stage_to_a_trained_model_changes_almost_nothing():
    """The very-dark stage starts nearly as a no-op, so it fine-tunes from weights without it."""
    torch.manual_seed(0)
    plain = create_model("curve-unet", width=8, thumb=16, shadows=False, night=False).eval()
    staged = create_model("curve-unet", width=8, thumb=16, shadows=True, night=False).eval()
    missing, unexpected = staged.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("shadow_head.") for k in missing)
    x = torch.rand(1, 3, 48, 64) * 0.1
    with torch.no_grad():
        assert (plain(x) - staged(x)).abs().max().item() < 1.5 / 255


def test_shadow_stage_withholds_the_lift_of_the_noise_floor_and_greys_it():
    """With a black level and full greying, a near-black coloured pixel is lifted less and comes
    out nearly neutral, while a mid-tone pixel is treated as before."""
    from lowlight.models.curve_unet import shadow_stage

    fields = torch.zeros(1, 6, 4, 4)
    fields[:, 1:3] = -30.0                       # no wide smoothing: only the toe and the greying
    fields[:, 3], fields[:, 4], fields[:, 5] = 30.0, 30.0, 30.0  # black level 0.05, full greying up to 0.1
    z = torch.full((1, 3, 16, 16), 0.5)
    z[..., :8] = torch.tensor([0.004, 0.01, 0.002]).view(1, 3, 1, 1)  # an olive noise floor
    z2, toe, grey = shadow_stage(z, fields, 4)
    assert torch.equal(z2, z)
    v = z.amax(dim=1, keepdim=True)
    lifted = torch.sqrt(v)                       # a strong concave lift
    out = toe(v, lifted)
    assert (out >= v - 1e-7).all()
    assert out[..., 0, 0].item() < 0.02 < lifted[..., 0, 0].item()  # 0.01 -> under 0.02, not 0.1
    assert out[..., 0, -1].item() == pytest.approx(lifted[..., 0, -1].item(), abs=0.01)  # mid-tones keep the lift
    assert grey(v)[..., 0, 0].item() < 0.05 and grey(v)[..., 0, -1].item() > 0.9


def _night_frame(seed: int = 0, lamps: bool = True) -> torch.Tensor:
    """A dark frame: a smooth scene at about 0.05, an olive, noisy floor at about 2/255 below it,
    and (``lamps``) a row of lit windows near white across the top, as a night photo has."""
    g = torch.Generator().manual_seed(seed)
    x = torch.full((1, 3, 96, 128), 0.05)
    x[..., 48:, :] = torch.tensor([0.009, 0.009, 0.004]).view(1, 3, 1, 1)  # olive near-black
    x = x + torch.randn(x.shape, generator=g) * 0.003
    if lamps:
        x[..., 2:30, ::4] = 0.97
        x[..., 2:30, 1::4] = 0.97
    return x.clamp(0.0, 1.0)


def test_night_weight_tells_a_night_from_a_frame_under_exposed_as_a_whole():
    from lowlight.models.curve_unet import night_weight

    night, cut = _night_frame(), _night_frame(lamps=False)
    assert night_weight(night).item() == 1.0 and night_weight(cut).item() == 0.0
    assert night_weight(torch.full((1, 3, 32, 32), 0.35)).item() == pytest.approx(0.5, abs=0.01)  # a ramp


def _staged_pair(seed: int = 0):
    """A trained-like curve-unet without the very-dark stage and the same with it set as shipped
    (without the lift cap, which a test of its own checks)."""
    from lowlight.models.curve_unet import set_shadow_fields

    torch.manual_seed(seed)
    plain = create_model("curve-unet", width=8, thumb=16, shadows=False, night=False).eval()
    staged = create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=0.0).eval()
    staged.load_state_dict(plain.state_dict(), strict=False)
    set_shadow_fields(staged.shadow_head)
    return plain, staged


def test_set_night_stage_leaves_a_frame_under_exposed_as_a_whole_alone():
    """LOL's dark inputs have nothing near white: their shadows are content to lift, as before."""
    plain, staged = _staged_pair()
    x = _night_frame(lamps=False)
    both = torch.cat([x, _night_frame(1)])  # beside a night, so the stage runs, at zero weight for x
    with torch.no_grad():
        assert (plain(x) - staged(x)).abs().max().item() < 1e-4
        assert (plain(x) - staged(both)[:1]).abs().max().item() < 1e-4


def test_set_night_stage_keeps_a_nights_floor_dark_clean_and_neutral():
    """On a night, the olive noise floor is lifted less, with less noise and less colour, while the
    lit windows and the mid-dark scene above the floor keep what the tone curve gives them."""
    plain, staged = _staged_pair()
    x = _night_frame()
    with torch.no_grad():
        a, b = plain(x), staged(x)
    floor_a, floor_b = a[..., 56:92, 4:124], b[..., 56:92, 4:124]
    assert floor_b.mean() < floor_a.mean()                                   # darker
    assert floor_b.mean() >= x[..., 56:92, 4:124].mean() - 1e-4              # never darker than the input
    lum = lambda t: (t * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)  # noqa: E731
    assert lum(floor_b).std() < 0.5 * lum(floor_a).std()                     # cleaner
    chroma = lambda t: (t - lum(t)).abs().mean()                             # noqa: E731
    assert chroma(floor_b) < 0.5 * chroma(floor_a)                           # greyer
    assert (a[..., 2:30, ::4] - b[..., 2:30, ::4]).abs().max().item() < 1e-4  # the lamps as they were


def test_black_weight_tells_a_night_with_black_from_a_dark_room_with_a_lamp():
    from lowlight.models.curve_unet import black_weight

    assert black_weight(_night_frame()).item() == 1.0                     # its floor is black
    room = torch.full((1, 3, 96, 128), 0.05)
    room[..., 2:10, 60:70] = 0.97                                          # a lit clock, no black
    assert black_weight(room).item() == 0.0


def test_night_cap_keeps_a_nights_black_from_being_lifted_into_haze():
    """``night_cap`` (8 as shipped; 6 here, under this test curve's lift): a night's dim tones are
    lifted at most that many times, never darkened; a night without black, and a frame
    under-exposed as a whole, keep the curve."""
    plain, staged = _staged_pair()
    capped = create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=6.0).eval()
    capped.load_state_dict(staged.state_dict())
    x = _night_frame()
    x[..., 34:46, :] = 0.015                                               # a dim band above the black floor
    room = torch.full((1, 3, 96, 128), 0.05)
    room[..., 2:10, 60:70] = 0.97
    with torch.no_grad():
        a, b = staged(x), capped(x)
        for other in (room, _night_frame(lamps=False)):
            assert (staged(other) - capped(other)).abs().max().item() < 1e-6
    dim_in, dim_a, dim_b = (t[..., 36:44, 4:124].amax(1).mean().item() for t in (x, a, b))
    assert dim_a > 7 * dim_in                                              # the curve alone: over 7x
    assert dim_in < dim_b <= 6 * dim_in                                    # capped (and toed), still brightened
    assert (a[..., 2:30, ::4] - b[..., 2:30, ::4]).abs().max().item() < 1e-4  # the lamps as they were
    assert create_model("curve-unet", width=8, thumb=16, shadows=False, night=False).night_cap == 0.0  # no night
    with pytest.raises(ValueError, match="night_cap"):
        create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=0.5)  # would darken


def test_night_fine_keeps_more_grain_only_on_a_night_with_black():
    """``night_fine`` (tried, not shipped; 0 here): on a night with black in it the learned fine
    denoiser smooths less and the input's grain stays; a frame without black, or under-exposed as
    a whole, is denoised as before; 1 changes nothing."""
    _, staged = _staged_pair()
    capped = create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=8.0).eval()
    capped.load_state_dict(staged.state_dict())
    kept = create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=8.0,
                        night_fine=0.0).eval()
    kept.load_state_dict(staged.state_dict())
    x = _night_frame()
    grain = lambda t: (t[..., 32:46, 2:126] - F.avg_pool2d(t, 3, 1, 1)[..., 32:46, 2:126]).abs().mean().item()  # noqa: E731
    with torch.no_grad():
        a, b = capped(x), kept(x)
        assert grain(b) > 1.2 * grain(a)                                   # less smoothed where it is lifted
        for other in (_night_frame(lamps=False), torch.full((1, 3, 96, 128), 0.3)):
            assert (capped(other) - kept(other)).abs().max().item() < 1e-6
    assert create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=8.0).night_fine == 1.0
    with pytest.raises(ValueError, match="night_fine"):
        create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=0.0, night_fine=0.5)
    with pytest.raises(ValueError, match="night_fine"):
        create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_cap=8.0, night_fine=1.5)


def test_night_chroma_pales_the_lights_tint_on_lifted_colours():
    """``night_chroma`` (tried, not shipped): on a night, a mid-dark surface under bluish light (a
    white suit) is lifted to the same brightness with less of the light's tint, as per-channel
    curves would give; a frame that is no night is left as it was."""
    plain, staged = _staged_pair()
    pale = create_model("curve-unet", width=8, thumb=16, shadows=True, night=True, night_chroma=0.5,
                         night_cap=0.0).eval()
    pale.load_state_dict(staged.state_dict())
    x = _night_frame()
    x[..., 32:48, :64] = torch.tensor([0.030, 0.036, 0.065]).view(1, 3, 1, 1)  # bluish-lit white
    lum = lambda t: (t * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)  # noqa: E731
    tint = lambda t: ((t - lum(t)).abs().mean(1, keepdim=True) / lum(t)).mean()  # noqa: E731
    with torch.no_grad():
        a, b = staged(x)[..., 34:46, 4:60], pale(x)[..., 34:46, 4:60]
        cut = _night_frame(lamps=False)
        assert (staged(cut) - pale(cut)).abs().max().item() < 1e-6
    assert tint(b) < 0.8 * tint(a)                                             # paler (lifted about 4.5x here)
    assert lum(b).mean().item() == pytest.approx(lum(a).mean().item(), rel=0.02)  # as bright
    with pytest.raises(ValueError, match="night_chroma"):
        create_model("curve-unet", width=8, thumb=16, shadows=True, night=False, night_chroma=0.5)
