import csv
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lowlight.training.config import TrainConfig, apply, load_config_file, recipe
from lowlight.errors import LowlightError
from lowlight.training.loop import train


def tiny(lol_tiny, out, **kw):
    base = dict(data=str(lol_tiny), val_data=str(lol_tiny), out=str(out), model="sid-unet",
                model_args={"width": 4, "depth": 2}, crop=32, batch_size=2, epochs=2, lr=1e-3,
                device="cpu", plateau_patience=0)
    return apply(TrainConfig(), {**base, **kw})


def test_resume_equals_uninterrupted(lol_tiny, tmp_path):
    full = train(tiny(lol_tiny, tmp_path / "full", epochs=3, ensemble=2, accumulation=2),
                 log=lambda s: None, progress=False)
    train(tiny(lol_tiny, tmp_path / "part", epochs=1, ensemble=2, accumulation=2),
          log=lambda s: None, progress=False)
    resumed = train(tiny(lol_tiny, tmp_path / "part", epochs=3, ensemble=2, accumulation=2),
                    resume=True, log=lambda s: None, progress=False)
    a = load_file(str(tmp_path / "full" / "last.safetensors"))
    b = load_file(str(tmp_path / "part" / "last.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    drop = lambda rows: [{k: v for k, v in r.items() if "seconds" not in k} for r in rows]  # noqa: E731
    assert drop(full.history) == drop(resumed.history)


def test_run_folder_contents(lol_tiny, tmp_path):
    res = train(tiny(lol_tiny, tmp_path / "r"), log=lambda s: None, progress=False)
    out = tmp_path / "r"
    for name in ("config.json", "metrics.csv", "psnr.png", "best.safetensors", "last.safetensors", "state.pt"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(rows[0]) >= {"train_loss", "val_loss", "psnr", "ssim", "lr", "seconds"}
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["model_args"] == {"width": 4, "depth": 2}
    assert "hardware" in record and "lowlight_version" in record
    assert res.best["epoch"] in (1, 2)
    with pytest.raises(LowlightError, match="already holds a run"):
        train(tiny(lol_tiny, out), log=lambda s: None, progress=False)


def test_training_reduces_the_loss(lol_tiny, tmp_path):
    res = train(tiny(lol_tiny, tmp_path / "r", epochs=6, loss="l1", repeat=4, lr=1e-2, plateau_patience=10),
                log=lambda s: None, progress=False)
    assert res.history[-1]["train_loss"] < 0.6 * res.history[0]["train_loss"]
    assert res.history[-1]["psnr"] > res.history[0]["psnr"] + 3


@pytest.mark.slow
def test_seed_recipe_is_the_report(lol_tiny, tmp_path):
    cfg = recipe("seed")
    assert (cfg.model, cfg.gamma, cfg.resize, cfg.batch_size, cfg.lr, cfg.weight_decay) == \
        ("seed-unet", 2.2, (150, 150), 4, 1e-4, 1e-4)
    assert (cfg.loss, cfg.plateau_patience, cfg.plateau_factor, cfg.ensemble, cfg.epochs) == \
        ("mse", 2, 0.5, 5, 35)
    assert cfg.amp and cfg.clip_norm == 1.0 and cfg.crop is None and not cfg.augment
    # the recipe runs end to end on a LOL-style folder (narrow model, one epoch, two members)
    small = apply(cfg, {"data": str(lol_tiny), "out": str(tmp_path / "seed"), "epochs": 1,
                        "ensemble": 2, "model_args": {"width": 4, "depth": 2}, "resize": (48, 32),
                        "device": "cpu"})
    res = train(small, log=lambda s: None, progress=False)
    from lowlight.core.checkpoint import read_metadata
    assert read_metadata(tmp_path / "seed" / "best.safetensors")["preprocess"] == {"gamma": 2.2}
    assert res.best["member"] in (0, 1)


def test_config_overrides_are_typed_and_checked():
    cfg = apply(TrainConfig(), {"lr": "1e-3", "augment": "false", "resize": "150x100", "clip_norm": "none",
                                "model_args": '{"width": 8}'})
    assert cfg.lr == 1e-3 and cfg.augment is False and cfg.resize == (150, 100) and cfg.clip_norm is None
    assert cfg.model_args == {"width": 8}
    with pytest.raises(LowlightError, match="unknown setting 'learning_rate'"):
        apply(TrainConfig(), {"learning_rate": 1})
    with pytest.raises(LowlightError, match="bad value for epochs"):
        apply(TrainConfig(), {"epochs": "many"})
    with pytest.raises(LowlightError, match="batch_size must be at least 1"):
        apply(TrainConfig(), {"data": "x", "batch_size": 0}).validate()


def test_a_corrupt_training_image_fails_before_the_run_folder_exists(lol_tiny, tmp_path):
    import shutil
    data = tmp_path / "data"
    shutil.copytree(lol_tiny, data)
    good = (data / "high" / "22.png").read_bytes()
    (data / "high" / "22.png").write_bytes(good[: len(good) // 2])  # truncated: header fine, pixels not
    with pytest.raises(LowlightError, match="cannot read image"):
        train(tiny(data, tmp_path / "run", val_data=None, val_fraction=0.34), log=lambda s: None,
              progress=False)
    assert not (tmp_path / "run").exists()


def test_extra_data_is_mixed_into_training_only(lol_tiny, photos_tiny, tmp_path):
    from lowlight.training.synth import synthesize
    from lowlight.training.loop import Trainer
    synthesize(photos_tiny, tmp_path / "syn", count=4, size=64, progress=False)
    cfg = tiny(lol_tiny, tmp_path / "r", extra_data=str(tmp_path / "syn"))
    trainer = Trainer(cfg, log=lambda s: None, progress=False)
    assert len(trainer.train_pairs) == 3 + 4 and len(trainer.val_pairs) == 3
    assert apply(TrainConfig(), {"extra_data": "a,b"}).extra_data == ["a", "b"]


def test_data_repeat_weights_the_main_pairs_against_the_extras(lol_tiny, photos_tiny, tmp_path):
    from lowlight.training.synth import synthesize
    from lowlight.training.loop import Trainer
    synthesize(photos_tiny, tmp_path / "syn", count=4, size=64, progress=False)
    cfg = tiny(lol_tiny, tmp_path / "r", extra_data=str(tmp_path / "syn"), data_repeat=3, repeat=2)
    trainer = Trainer(cfg, log=lambda s: None, progress=False)
    index = trainer.dataset.index
    assert len(trainer.dataset) == 2 * (3 * 3 + 4)
    assert [index.count(i) for i in range(7)] == [6, 6, 6, 2, 2, 2, 2]  # 3 LOL pairs x3, 4 synth x1, twice
    with pytest.raises(LowlightError, match="data_repeat"):
        tiny(lol_tiny, tmp_path / "r", data_repeat=0).validate()


def test_forgive_white_drops_only_the_penalty_above_a_clipped_reference():
    from lowlight.training.losses import forgive_white
    target = torch.tensor([1.0, 1.0, 0.5, 0.5])
    out = torch.tensor([1.3, 0.8, 1.3, 0.2], requires_grad=True)
    kept = forgive_white(out, target)
    assert kept.tolist() == pytest.approx([1.0, 0.8, 1.3, 0.2])
    torch.nn.functional.l1_loss(kept, target, reduction="sum").backward()
    assert out.grad.tolist() == [0.0, -1.0, 1.0, -1.0]  # too dark under white still learns; too bright grey too


def test_match_mean_scales_only_the_flagged_samples_and_only_their_brightness():
    from lowlight.training.losses import l1_ssim, match_mean
    torch.manual_seed(0)
    target = torch.rand(2, 3, 16, 16) * 0.5
    out = target * 0.5  # the right picture, half as bright
    matched = match_mean(out, target, torch.tensor([1.0, 0.0]))
    assert torch.allclose(matched[0], target[0], atol=1e-5)  # brightness forgiven on the flagged sample
    assert torch.equal(matched[1], out[1])  # the other keeps its error
    assert float(l1_ssim(matched[:1], target[:1])) < 1e-4 < float(l1_ssim(matched[1:], target[1:]))
    wrong = torch.rand(1, 3, 16, 16) * 0.5  # a different picture is still wrong after scaling
    assert float(l1_ssim(match_mean(wrong, target[:1], torch.ones(1)), target[:1])) > 0.05


def test_gt_mean_data_flags_the_data_pairs_and_trains(lol_tiny, photos_tiny, tmp_path):
    from lowlight.training.synth import synthesize
    from lowlight.training.loop import Trainer
    synthesize(photos_tiny, tmp_path / "syn", count=2, size=64, progress=False)
    cfg = tiny(lol_tiny, tmp_path / "r", extra_data=str(tmp_path / "syn"), gt_mean_data=True, epochs=1)
    trainer = Trainer(cfg, log=lambda s: None, progress=False)
    flags = [float(trainer.dataset[j][-1]) for j in range(len(trainer.dataset))]
    assert flags == [1.0, 1.0, 1.0, 0.0, 0.0]  # 3 LOL pairs, then 2 synthetic ones
    assert len(Trainer(tiny(lol_tiny, tmp_path / "p"), log=lambda s: None, progress=False).dataset[0]) == 2
    res = trainer.run()
    assert res.history and all(torch.isfinite(torch.tensor(r["val_loss"])) for r in res.history)


def test_cosine_schedule_and_time_budget(lol_tiny, tmp_path):
    res = train(tiny(lol_tiny, tmp_path / "cos", epochs=3, scheduler="cosine", loss="l1+ssim", forgive_white=True),
                log=lambda s: None, progress=False)
    lrs = [row["lr"] for row in res.history]
    assert lrs[0] == 1e-3 and lrs[0] > lrs[1] > lrs[2] >= 1e-5
    logged = []
    res = train(tiny(lol_tiny, tmp_path / "budget", epochs=5, max_minutes=1e-6), log=logged.append, progress=False)
    assert len(res.history) == 1 and any("max_minutes" in line for line in logged)
    with pytest.raises(LowlightError, match="scheduler"):
        tiny(lol_tiny, tmp_path / "x", scheduler="step").validate()


def test_init_fine_tunes_from_weights_and_grows_a_new_branch(lol_tiny, tmp_path):
    from lowlight.training.loop import Trainer

    base = dict(model="gain-unet", model_args={"width": 8}, crop=32, scheduler="cosine")
    train(tiny(lol_tiny, tmp_path / "a", epochs=1, **base), log=lambda s: None, progress=False)
    start = load_file(str(tmp_path / "a" / "last.safetensors"))
    logged = []
    grown = dict(base, model_args={"width": 8, "thumb": 16})
    trainer = Trainer(tiny(lol_tiny, tmp_path / "b", init=str(tmp_path / "a" / "last.safetensors"), **grown),
                      log=logged.append, progress=False)
    state = trainer.members[0].net.state_dict()
    for key, value in start.items():  # every saved tensor carried over ...
        assert torch.equal(state[key], value), key
    fresh = [k for k in state if k not in start]  # ... and the new thumbnail branch starts fresh
    assert fresh and all(k.startswith("context.") for k in fresh)
    assert any("start fresh" in line for line in logged)
    with pytest.raises(LowlightError, match="holds a gain-unet model"):
        Trainer(tiny(lol_tiny, tmp_path / "c", init=str(tmp_path / "a" / "last.safetensors")),
                log=lambda s: None, progress=False)
    with pytest.raises(LowlightError, match="init weights not found"):
        tiny(lol_tiny, tmp_path / "d", init=str(tmp_path / "nope.safetensors")).validate()


def test_context_models_train_on_whole_image_statistics(lol_tiny):
    from lowlight.media.pairs import find_pairs
    from lowlight.training.dataset import PairedDataset
    from lowlight.models.gain_unet import image_statistics

    pairs = find_pairs(lol_tiny)
    ds = PairedDataset(pairs, crop=16, augment=True, context=lambda low, high: image_statistics(low))
    low, high, ctx = ds[0]
    assert low.shape == (3, 16, 16) and ctx.shape == (8,)
    whole = torch.from_numpy(ds.load(0)[0]).permute(2, 0, 1).float().div(255)[None]
    assert torch.allclose(ctx[:3], image_statistics(whole)[0, :3], atol=1e-5)  # means: any flip, same
    plain = PairedDataset(pairs, crop=16, augment=True)
    assert torch.equal(plain[0][0], low)  # the crop drawn does not depend on the context


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "configs").glob("*.json")), ids=lambda p: p.name)
def test_committed_recipes_are_valid_configs(path):
    """Every recipe in configs/ names only real fields and model arguments, with usable values."""
    settings = load_config_file(path)
    init = settings.pop("init", None)  # an earlier stage's output (bench/model_card.sh train) or shipped weights
    cfg = apply(TrainConfig(), settings).validate()
    assert str(cfg.out).startswith("runs/")
    assert init is None or init.startswith("runs/") or (Path(__file__).parents[1] / init).is_file()


def test_plateau_scheduler_halves_the_rate_when_validation_stalls(lol_tiny, tmp_path):
    # a rate this small cannot improve the validation loss by the 1e-4 threshold: with patience 0
    # every epoch after the first halves it
    res = train(tiny(lol_tiny, tmp_path / "p", epochs=4, lr=1e-6, plateau_factor=0.5),
                log=lambda s: None, progress=False)
    rates = [row["lr"] for row in res.history]
    assert rates == pytest.approx([1e-6, 1e-6, 5e-7, 2.5e-7])  # each row: the rate its epoch trained with


def test_a_diverging_run_stops_with_a_clear_error(lol_tiny, tmp_path):
    with pytest.raises(LowlightError, match="training diverged.*lower --lr"):
        train(tiny(lol_tiny, tmp_path / "d", lr=1e30, clip_norm=None, epochs=3), log=lambda s: None, progress=False)


def test_stop_after_ends_early_on_the_longer_schedule(lol_tiny, tmp_path):
    short = train(tiny(lol_tiny, tmp_path / "s", epochs=4, stop_after=2, scheduler="cosine"),
                  log=lambda s: None, progress=False)
    full = train(tiny(lol_tiny, tmp_path / "f", epochs=4, scheduler="cosine"), log=lambda s: None, progress=False)
    assert len(short.history) == 2
    drop = lambda rows: [{k: v for k, v in r.items() if "seconds" not in k} for r in rows]  # noqa: E731
    assert drop(short.history) == drop(full.history)[:2]  # the same two epochs, the 4-epoch schedule
