import json

import pytest

from lowlight.training.config import TrainConfig, apply, load_config_file
from lowlight.training.tune import TuneConfig, tune


pytestmark = pytest.mark.slow  # an Optuna study of real trials: minutes, not seconds


def base(lol_tiny):
    return apply(TrainConfig(), dict(data=str(lol_tiny), val_data=str(lol_tiny), model="sid-unet",
                                     model_args={"width": 4, "depth": 1}, crop=32, epochs=2, device="cpu"))


def test_two_trial_tune_resumes_from_its_storage(lol_tiny, tmp_path):
    tcfg = TuneConfig(out=str(tmp_path / "t"), trials=1, seed=1)
    first = tune(base(lol_tiny), tcfg, log=lambda s: None, progress=False)
    assert len(first.trials) == 1
    params0 = first.trials[0].params
    tcfg.trials = 2
    second = tune(base(lol_tiny), tcfg, log=lambda s: None, progress=False)
    assert len(second.trials) == 2 and second.trials[0].params == params0  # the first was kept, not rerun
    assert set(params0) == {"lr", "batch_size", "accumulation", "weight_decay", "width"}
    assert params0["width"] in (2, 4, 8)
    out = tmp_path / "t"
    for name in ("best_config.json", "trials.csv", "trials.md", "history.png", "study.db"):
        assert (out / name).is_file(), name
    best = json.loads((out / "best_config.json").read_text())
    assert best["tuned"]["trial"] in (0, 1)
    cfg = apply(TrainConfig(), load_config_file(out / "best_config.json"))  # usable by train --config
    assert cfg.lr == best["tuned"]["params"]["lr"] and cfg.model_args["width"] == best["tuned"]["params"]["width"]
    tune(base(lol_tiny), tcfg, log=lambda s: None, progress=False)  # nothing left: no new trial
    import optuna
    study = optuna.load_study(study_name="lowlight", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 2
