"""Hyperparameter search with Optuna over the report's knobs and the model width.

Searches learning rate, batch size, gradient accumulation, weight decay and width, each trial a
short training run whose per-epoch validation PSNR is reported so weak trials are pruned
(median rule). The study lives in SQLite, so an interrupted search resumes where it stopped.
Writes ``best_config.json`` (for ``lowlight train --config``), ``trials.csv``/``trials.md``,
``history.png`` and ``importance.png``.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import TrainConfig, apply
from ..errors import require
from ..media.files import atomic_write, atomic_write_text
from ..models import model_args

STUDY_NAME = "lowlight"


@dataclass
class TuneConfig:
    """The search itself; the training settings of each trial come from a base TrainConfig."""

    out: str = "runs/tune"        #: folder for the study, per-trial runs and the reports
    trials: int = 20              #: total trials wanted (finished ones in the storage count)
    seed: int = 0                 #: sampler seed
    storage: str | None = None    #: Optuna storage URL; default sqlite:///OUT/study.db
    startup_trials: int = 2       #: trials before pruning starts
    lr_range: tuple = (1e-5, 1e-2)
    weight_decay_range: tuple = (1e-6, 1e-1)
    batch_sizes: tuple = (2, 4, 8, 16)
    accumulations: tuple = (1, 2, 4)
    width_factors: tuple = (0.5, 1.0, 2.0)  #: multiples of the base model's width


def _optuna():
    optuna = require("optuna", "lowlight tune", "research")
    require("matplotlib", "lowlight tune (its plots)", "research")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def suggest(trial, base: TrainConfig, tcfg: TuneConfig) -> dict:
    """The settings one trial tries, drawn from the search space."""
    width = model_args(base.model, **base.model_args)["width"]
    widths = sorted({max(1, int(round(width * f))) for f in tcfg.width_factors})
    return {
        "lr": trial.suggest_float("lr", *tcfg.lr_range, log=True),
        "batch_size": trial.suggest_categorical("batch_size", list(tcfg.batch_sizes)),
        "accumulation": trial.suggest_categorical("accumulation", list(tcfg.accumulations)),
        "weight_decay": trial.suggest_float("weight_decay", *tcfg.weight_decay_range, log=True),
        "width": trial.suggest_categorical("width", widths),
    }


def trial_config(base: TrainConfig, params: dict, out: Path) -> TrainConfig:
    """The TrainConfig of a trial: the base with the trial's parameters and its own run folder."""
    changes = {k: v for k, v in params.items() if k != "width"}
    return apply(base, {**changes, "model_args": {**base.model_args, "width": params["width"]},
                        "out": str(out)})


def tune(base: TrainConfig, tcfg: TuneConfig, log: Callable[[str], None] = print, progress: bool = True):
    """Run (or resume) the search; returns the Optuna study."""
    from .loop import train

    optuna = _optuna()
    out = Path(tcfg.out)
    out.mkdir(parents=True, exist_ok=True)
    base.validate()
    storage = tcfg.storage or f"sqlite:///{(out / 'study.db').resolve()}"
    study = optuna.create_study(
        study_name=STUDY_NAME, storage=storage, load_if_exists=True, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=tcfg.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=tcfg.startup_trials, n_warmup_steps=1))
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    done = sum(t.state in finished for t in study.trials)
    remaining = max(0, tcfg.trials - done)
    log(f"study {storage}: {done} trials finished, running {remaining} more")

    def objective(trial) -> float:
        params = suggest(trial, base, tcfg)
        cfg = trial_config(base, params, out / "trials" / f"{trial.number:03d}")

        def report(row: dict) -> None:
            trial.report(row["psnr"], row["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        result = train(cfg, log=lambda s: None, progress=progress, overwrite=True, on_epoch=report)
        return max(r["psnr"] for r in result.history)

    if remaining:
        study.optimize(objective, n_trials=remaining, catch=())
    write_reports(study, base, out)
    return study


def write_reports(study, base: TrainConfig, out: Path) -> None:
    """best_config.json, trials.csv, trials.md and the two plots."""
    optuna = _optuna()
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    keys = ["lr", "batch_size", "accumulation", "weight_decay", "width"]
    rows = [{"trial": t.number, "state": t.state.name, "best_psnr": t.value if t.value is not None else
             (max(t.intermediate_values.values()) if t.intermediate_values else None),
             "epochs": len(t.intermediate_values), **{k: t.params.get(k) for k in keys}} for t in study.trials]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["trial"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "trials.csv", buf.getvalue())
    md = ["| trial | state | best val PSNR (dB) | epochs | lr | batch | accum | weight decay | width |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        psnr = f"{r['best_psnr']:.2f}" if r["best_psnr"] is not None else "-"
        md.append(f"| {r['trial']} | {r['state']} | {psnr} | {r['epochs']} | {r['lr']:.2e} | "
                  f"{r['batch_size']} | {r['accumulation']} | {r['weight_decay']:.2e} | {r['width']} |"
                  if r["lr"] is not None else f"| {r['trial']} | {r['state']} | - | - | | | | | |")
    atomic_write_text(out / "trials.md", "\n".join(md) + "\n")
    if not complete:
        return
    best = study.best_trial
    cfg = trial_config(base, best.params, Path(base.out))
    record = {"config": cfg.to_dict(), "tuned": {"trial": best.number, "val_psnr": best.value,
                                                 "params": best.params}}
    atomic_write_text(out / "best_config.json", json.dumps(record, indent=2) + "\n")
    _plots(study, out)


def _plots(study, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        ax = optuna.visualization.matplotlib.plot_optimization_history(study)
        ax.set_ylabel("best validation PSNR (dB)")
        atomic_write(out / "history.png", lambda tmp: ax.figure.savefig(tmp, format="png", dpi=120,
                                                                        bbox_inches="tight"))
        plt.close(ax.figure)
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if len(complete) >= 2:
            try:
                ax = optuna.visualization.matplotlib.plot_param_importances(study)
            except (RuntimeError, ValueError):  # too little variation to rank parameters
                return
            atomic_write(out / "importance.png", lambda tmp: ax.figure.savefig(tmp, format="png", dpi=120,
                                                                               bbox_inches="tight"))
            plt.close(ax.figure)
