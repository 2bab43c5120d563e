"""The training loop: the report's recipe (AdamW, ReduceLROnPlateau, mixed precision, gradient
accumulation and clipping, an ensemble of models with the best kept by validation loss), written
so that a resumed run ends bit for bit where an uninterrupted one would (on CPU, fixed seed).
Under ``torchrun`` the same loop runs with DistributedDataParallel: the global batch is split
over the processes and only rank 0 writes (see :mod:`lowlight.training.ddp` and docs/SCALE.md).

A run folder holds ``config.json`` (settings, command line, git revision, versions, hardware),
``metrics.csv`` (one row per epoch), ``psnr.png``, ``best.safetensors``, ``last.safetensors`` and
``state.pt`` (everything needed to resume).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .. import __version__
from ..core.checkpoint import read_metadata, save_weights
from .config import TrainConfig
from ..media.pairs import find_pairs, split_pairs
from .dataset import PairedDataset
from ..errors import LowlightError, require
from ..research.evaluation import evaluate
from ..core.device import pick_device
from .ddp import DistContext, context, training_device
from ..core.enhancer import Enhancer
from ..media.files import atomic_write, atomic_write_text
from .losses import forgive_white, get_loss, match_mean
from ..models import create_model, model_args
from .plots import plot_history
from ..progress import progress as progress_bar
from ..research.metrics import gt_mean_scale

CSV_FIELDS = ["epoch", "train_loss", "val_loss", "psnr", "ssim", "lr", "best_member", "seconds", "train_seconds"]


@dataclass
class TrainResult:
    """Where the run is and how its best epoch scored."""

    out: Path
    history: list[dict]
    best: dict


def _hardware(device: torch.device) -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "cpu_threads": torch.get_num_threads(), "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _epoch_sampler(dataset, seed: int, epoch: int, dist: DistContext):
    """This process's share of one epoch's shuffled order, a function of (seed, epoch) only.

    A DistributedSampler with the same permutation on every process; process r takes samples
    r, r + N, r + 2N, ... of it, so consecutive per-process batches of ``B / N`` make up exactly
    the global batches of ``B`` that one process would draw (``drop_last``: when the sample count
    is not a multiple of N, the last at most N - 1 samples of the order sit the epoch out).
    """
    sampler = torch.utils.data.DistributedSampler(dataset, num_replicas=dist.world, rank=dist.rank,
                                                  shuffle=True, seed=seed, drop_last=True)
    sampler.set_epoch(epoch)
    return sampler


class _Repeated(torch.utils.data.Dataset):
    """``repeat`` passes over a PairedDataset in which the first ``n_main`` pairs (``--data``) appear
    ``main_repeat`` times per pass and the rest (``--extra-data``) once; every sample draws its own crop.
    ``flag_main`` appends a last item to each sample: 1.0 for a ``--data`` pair, else 0.0."""

    def __init__(self, base: PairedDataset, repeat: int, n_main: int | None = None, main_repeat: int = 1,
                 flag_main: bool = False):
        n_main = len(base) if n_main is None else n_main
        one_pass = list(range(n_main)) * main_repeat + list(range(n_main, len(base)))
        self.base, self.index, self.n_main, self.flag_main = base, one_pass * repeat, n_main, flag_main

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, j: int):
        i = self.index[j]
        item = self.base.sample(i, j)
        return (*item, torch.tensor(float(i < self.n_main))) if self.flag_main else item


def training_pairs(cfg: TrainConfig) -> tuple[list, list, int]:
    """A run's training pairs (``data`` then each ``extra_data``), its validation pairs, and how
    many of the training pairs came from ``data``."""
    train_pairs = find_pairs(Path(cfg.data), "train")
    if cfg.val_data:
        val_pairs = find_pairs(Path(cfg.val_data), "test")
    else:
        train_pairs, val_pairs = split_pairs(train_pairs, cfg.val_fraction, cfg.seed)
    if cfg.max_pairs:
        train_pairs = train_pairs[: cfg.max_pairs]
    n_main = len(train_pairs)
    for extra in cfg.extra_data:
        train_pairs = train_pairs + find_pairs(Path(extra), "train")
    return train_pairs, val_pairs, n_main


def _load_init(net: torch.nn.Module, path: Path, name: str, log: Callable[[str], None]) -> None:
    """Start ``net`` from a weights file of the same model: every tensor whose name and shape
    match is loaded; parts the file lacks (a new branch) keep their fresh initialisation."""
    from safetensors.torch import load_file

    meta = read_metadata(path)
    if meta["model"] != name:
        raise LowlightError(f"{path} holds a {meta['model']} model, but the run trains {name}; "
                            "fine-tune the model the weights were written for")
    saved, own = load_file(str(path)), net.state_dict()
    usable = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise LowlightError(f"{path} shares no tensors with {name} {model_args(name)}; check model_args")
    net.load_state_dict(usable, strict=False)
    fresh = [k for k in own if k not in usable]
    if fresh:
        log(f"init: {len(usable)} tensors from {path}; {len(fresh)} start fresh ({', '.join(fresh[:4])}"
            f"{', ...' if len(fresh) > 4 else ''})")


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    atomic_write_text(path, buf.getvalue())


@dataclass
class Member:
    """One model of the ensemble with its optimiser, scheduler and gradient scaler."""

    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    scaler: torch.amp.GradScaler
    ddp: torch.nn.Module | None = None  #: the DistributedDataParallel wrapper under torchrun

    @property
    def trained(self) -> torch.nn.Module:
        """What the training step runs: the DDP wrapper (gradients averaged over processes) or the net."""
        return self.ddp if self.ddp is not None else self.net

    def step_scheduler(self, val_loss: float) -> None:
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(val_loss)
        else:
            self.scheduler.step()


#: How ``state.pt`` stores the members (one list per part, as older runs wrote it).
_MEMBER_PARTS = {"members": "net", "optimizers": "optimizer", "schedulers": "scheduler", "scalers": "scaler"}


class Trainer:
    """Owns the ensemble (:class:`Member` records); :meth:`run` trains epoch by epoch."""

    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] = print, progress: bool = True,
                 on_epoch: Callable[[dict], None] | None = None):
        self.cfg = cfg.validate()
        device = pick_device(cfg.device)
        self.dist = context(device)
        self.device = training_device(device, self.dist)
        if cfg.batch_size % self.dist.world:
            raise LowlightError(f"--batch-size {cfg.batch_size} is the global batch and must split evenly over "
                                f"{self.dist.world} processes; pass a multiple of {self.dist.world}")
        if cfg.ensemble > 1 and self.dist.active:
            raise LowlightError(f"--ensemble {cfg.ensemble} trains its members side by side in one process and "
                                "cannot be spread over torchrun processes; use --ensemble 1 with torchrun, or "
                                "one torchrun job per member (--seed K) and compare them")
        main = self.dist.main  # only rank 0 logs, shows progress and writes files
        self.log, self.progress, self.on_epoch = (log if main else (lambda _: None)), progress and main, on_epoch
        self.out = Path(cfg.out)
        self.use_amp = cfg.amp and self.device.type == "cuda"
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.args = model_args(cfg.model, **cfg.model_args)
        self.members = [self._member(i) for i in range(cfg.ensemble)]
        self.train_pairs, self.val_pairs, n_main = self._pairs()
        self.dataset = self._dataset(n_main)
        self.criterion = get_loss(cfg.loss)
        self.epoch = 0
        self.history: list[dict] = []
        self.best: dict = {}

    def _pairs(self):
        return training_pairs(self.cfg)

    def _dataset(self, n_main: int) -> "_Repeated":
        """Every pair decoded now (a bad file fails before the run folder is touched); models that
        condition on the whole image get that measured on the whole image, not the crop."""
        cfg, net = self.cfg, self.members[0].net
        base = PairedDataset(self.train_pairs, gamma=cfg.gamma, resize=cfg.resize, crop=cfg.crop,
                             augment=cfg.augment, seed=cfg.seed,
                             context=net.training_context if net.uses_context else None,
                             jpeg=cfg.jpeg, jpeg_pairs=n_main)
        for i in progress_bar(range(len(base)), self.progress, desc="loading pairs", unit="pair", leave=False):
            base.load(i)
        return _Repeated(base, cfg.repeat, n_main, cfg.data_repeat, flag_main=cfg.gt_mean_data)

    def _member(self, i: int) -> Member:
        cfg = self.cfg
        torch.manual_seed(cfg.seed * 1000 + i)
        net = create_model(cfg.model, **cfg.model_args)
        if cfg.init:
            _load_init(net, Path(cfg.init), cfg.model, self.log if i == 0 else (lambda _: None))
        net = net.to(self.device, memory_format=self.memory_format)
        ddp = None
        if self.dist.active:
            ids = [self.device.index] if self.device.type == "cuda" else None
            ddp = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.scheduler == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs, eta_min=cfg.lr / 100)
        else:
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
                opt, mode="min", patience=cfg.plateau_patience, factor=cfg.plateau_factor)
        return Member(net, opt, sched, torch.amp.GradScaler("cuda", enabled=self.use_amp), ddp)

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        parts = {key: [getattr(m, attr).state_dict() for m in self.members] for key, attr in _MEMBER_PARTS.items()}
        return {"epoch": self.epoch, "history": self.history, "best": self.best, **parts}

    def load_state_dict(self, state: dict) -> None:
        if len(state["members"]) != len(self.members):
            raise LowlightError(f"the run has {len(state['members'])} ensemble members, the config "
                                f"{len(self.members)}; resume with the run's own settings")
        for key, attr in _MEMBER_PARTS.items():
            for member, sd in zip(self.members, state[key]):
                getattr(member, attr).load_state_dict(sd)
        self.epoch, self.history, self.best = state["epoch"], state["history"], state["best"]

    def resume(self) -> None:
        """Load ``state.pt`` from the run folder."""
        path = self.out / "state.pt"
        if not path.is_file():
            raise LowlightError(f"nothing to resume in {self.out}: no state.pt; start a run with --out {self.out}")
        self.load_state_dict(torch.load(path, map_location=self.device, weights_only=True))
        self.log(f"resumed {self.out} after epoch {self.epoch}")

    # -- one epoch ---------------------------------------------------------------------------
    def _train_epoch(self) -> float:
        cfg = self.cfg
        self.dataset.base.set_epoch(self.epoch)
        sampler = _epoch_sampler(self.dataset, cfg.seed, self.epoch, self.dist)
        loader = torch.utils.data.DataLoader(self.dataset, batch_size=cfg.batch_size // self.dist.world,
                                             sampler=sampler, num_workers=cfg.workers, drop_last=False)
        for m in self.members:
            m.net.train()
            m.optimizer.zero_grad(set_to_none=True)
        totals = [0.0] * len(self.members)
        n_batches = len(loader)
        bar = progress_bar(loader, self.progress, desc=f"epoch {self.epoch + 1}/{cfg.epochs}",
                           unit="batch", leave=False)
        for b, (low, high, *context) in enumerate(bar):
            low = low.to(self.device, memory_format=self.memory_format, non_blocking=True)
            high = high.to(self.device, non_blocking=True)
            extra = [c.to(self.device) for c in context]
            main = extra.pop() if cfg.gt_mean_data else None  # which samples are --data pairs
            step_now = (b + 1) % cfg.accumulation == 0 or b + 1 == n_batches
            for k, m in enumerate(self.members):
                sync = step_now or m.ddp is None
                with (contextlib.nullcontext() if sync else m.ddp.no_sync()):  # accumulate locally, sync on the step
                    with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
                        out = m.trained(low, *extra).float()
                        if main is not None:
                            out = match_mean(out, high, main)
                        loss = self.criterion(forgive_white(out, high) if cfg.forgive_white else out, high)
                        aux = getattr(m.net, "aux_loss", None)  # a model's own side loss (curve-unet's exposure guess)
                        if aux is not None:
                            loss = loss + aux.float()
                    m.scaler.scale(loss / cfg.accumulation).backward()
                value = self.dist.all_mean([loss.item()], self.device)[0]  # every process sees the same loss
                if not math.isfinite(value):
                    raise LowlightError(f"training diverged at epoch {self.epoch + 1} (loss {value}); "
                                        "lower --lr or keep gradient clipping on")
                totals[k] += value
                if step_now:
                    if cfg.clip_norm:
                        m.scaler.unscale_(m.optimizer)
                        torch.nn.utils.clip_grad_norm_(m.net.parameters(), cfg.clip_norm)
                    m.scaler.step(m.optimizer)
                    m.scaler.update()
                    m.optimizer.zero_grad(set_to_none=True)
            bar.set_postfix(loss=f"{sum(totals) / len(totals) / (b + 1):.4f}")
            over = self._minutes_spent(time.perf_counter() - self._epoch_start) >= (cfg.max_minutes or math.inf)
            if cfg.max_minutes is not None and self.dist.any(over, self.device):  # all processes stop together
                n_batches = b + 1  # a time budget ends mid-epoch; validation still runs
                break
        return sum(totals) / len(totals) / max(1, n_batches)

    def _val_criterion(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training loss on a validation pair (``--data`` pairs held out, or ``--val-data``),
        taken after scaling to the reference's mean under ``gt_mean_data``, as in training."""
        if self.cfg.gt_mean_data:
            output = gt_mean_scale(output, target)  # every validation pair is a --data pair
        return self.criterion(output, target)

    def _minutes_spent(self, running: float = 0.0) -> float:
        """Minutes of training (validation excluded) in finished epochs, plus ``running`` seconds."""
        return (sum(h.get("train_seconds", 0.0) for h in self.history) + running) / 60

    def _validate(self) -> list[dict]:
        """Validation metrics per member; under torchrun each process scores its share of the
        pairs and the sums are reduced, so every process gets the same numbers (and schedule)."""
        rows = []
        share = self.val_pairs[self.dist.rank::self.dist.world]
        for m in self.members:
            m.net.eval()
            enhancer = Enhancer(m.net, self.cfg.model, self.args, self.cfg.gamma)
            images = evaluate(enhancer, share, loss=self._val_criterion).images if share else []
            sums = [sum(row[k] for row in images) for k in ("loss", "psnr", "ssim")] + [len(images)]
            loss, psnr, ssim, count = self.dist.all_sum(sums, self.device)
            rows.append({"val_loss": loss / count, "psnr": psnr / count, "ssim": ssim / count})
        return rows

    def _save_weights(self, path: Path, member: int, metrics: dict) -> None:
        training = {"data": self.cfg.data, "val_data": self.cfg.val_data or f"{self.cfg.val_fraction:g} of data",
                    "train_pairs": len(self.train_pairs), "val_pairs": len(self.val_pairs),
                    "epochs": self.epoch, "loss": self.cfg.loss, "seed": self.cfg.seed}
        save_weights(path, self.members[member].net, self.cfg.model, self.args,
                     preprocess={"gamma": self.cfg.gamma}, training=training, metrics=metrics)

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        cfg = self.cfg
        if self.epoch >= cfg.epochs:  # a resumed run that already ended
            self.log(f"nothing to train: {self.out} already finished its {self.epoch} epochs; pass --epochs N "
                     f"(more than {self.epoch}) to continue it")
        else:
            self.log(f"training {cfg.ensemble} x {cfg.model} on {len(self.train_pairs)} pairs "
                     f"(validating on {len(self.val_pairs)}) on {self.device}"
                     f"{', fp16 autocast' if self.use_amp else ', fp32'}")
        while self.epoch < cfg.epochs:
            start = self._epoch_start = time.perf_counter()
            train_loss = self._train_epoch()
            train_seconds = time.perf_counter() - start
            val = self._validate()
            best_k = min(range(len(val)), key=lambda k: val[k]["val_loss"])
            lr = self.members[best_k].optimizer.param_groups[0]["lr"]  # the rate this epoch trained with
            for m, row in zip(self.members, val):
                m.step_scheduler(row["val_loss"])
            self.epoch += 1
            row = {"epoch": self.epoch, "train_loss": train_loss, **val[best_k], "lr": lr,
                   "best_member": best_k, "seconds": time.perf_counter() - start, "train_seconds": train_seconds}
            self.history.append(row)
            metrics = {k: row[k] for k in ("epoch", "val_loss", "psnr", "ssim")}
            improved = not self.best or row["val_loss"] < self.best["val_loss"]
            if improved:
                self.best = dict(metrics, member=best_k)
            if self.dist.main:
                if improved:
                    self._save_weights(self.out / "best.safetensors", best_k, metrics)
                self._save_weights(self.out / "last.safetensors", best_k, metrics)
                self._checkpoint()
            self.log(f"epoch {self.epoch}/{cfg.epochs}  train loss {train_loss:.5f}  val loss "
                     f"{row['val_loss']:.5f}  PSNR {row['psnr']:.2f} dB  SSIM {row['ssim']:.4f}  "
                     f"(member {best_k}, {row['seconds']:.0f}s)")
            if self.on_epoch is not None and self.dist.main:
                self.on_epoch(row)  # e.g. hyperparameter search reporting and pruning
            if cfg.stop_after is not None and self.epoch >= cfg.stop_after and self.epoch < cfg.epochs:
                self.log(f"stopping after epoch {self.epoch} (stop_after; the schedule runs over {cfg.epochs})")
                break
            spent = self._minutes_spent()
            if cfg.max_minutes is not None and spent >= cfg.max_minutes and self.epoch < cfg.epochs:
                self.log(f"stopping after epoch {self.epoch}: {spent:.1f} min of training reached "
                         f"max_minutes={cfg.max_minutes:g}")
                break
        return TrainResult(self.out, self.history, self.best)

    def _checkpoint(self) -> None:
        atomic_write(self.out / "state.pt", lambda tmp: torch.save(self.state_dict(), tmp))
        _write_csv(self.out / "metrics.csv", self.history)
        plot_history(self.history, self.out / "psnr.png")

    def write_config(self, command: list[str] | None = None) -> None:
        """Record the resolved settings, the command line, git revision, versions and hardware (rank 0)."""
        if not self.dist.main:
            return
        record = {"config": self.cfg.to_dict(), "command": command or sys.argv,
                  "git_revision": _git_revision(), "lowlight_version": __version__,
                  "hardware": _hardware(self.device), "processes": self.dist.world,
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        atomic_write_text(self.out / "config.json", json.dumps(record, indent=2) + "\n")


def train(cfg: TrainConfig, resume: bool = False, log: Callable[[str], None] = print,
          progress: bool = True, overwrite: bool = False,
          on_epoch: Callable[[dict], None] | None = None) -> TrainResult:
    """Train as ``cfg`` says into ``cfg.out``; with ``resume``, continue the run saved there.

    An existing run folder is only replaced with ``overwrite`` (each file is swapped atomically).
    ``on_epoch`` is called with each epoch's metrics row after it is saved.
    """
    require("matplotlib", "lowlight train (its PSNR/SSIM plot)", "train")  # before any work, not after an epoch
    out = Path(cfg.out)
    if not resume and not overwrite and (out / "state.pt").exists():
        raise LowlightError(f"{out} already holds a run; pass --resume {out} to continue it, "
                            "--overwrite to start it again, or choose another --out")
    trainer = Trainer(cfg, log=log, progress=progress, on_epoch=on_epoch)
    try:
        if resume:
            trainer.resume()
        elif trainer.dist.main:
            out.mkdir(parents=True, exist_ok=True)
        trainer.write_config()
        result = trainer.run()
        trainer.dist.barrier()  # only on success: a failed process must not wait for the others
        return result
    finally:
        trainer.dist.close()
