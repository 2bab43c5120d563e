"""torchrun + DDP on the CPU (gloo): two processes train the same model as one process with the
same flags, write one run folder, resume, and refuse what they cannot do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import write_pairs

#: Two processes and one end within this of each other (largest absolute weight difference):
#: the same samples and averaged gradients, summed in another order (float32 rounding).
TOLERANCE = 1e-5


def _flags(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data / "train"), "--val-data", str(data / "val"), "--out", str(out),
            "--model", "sid-unet", "--width", "4", "--depth", "2", "--crop", "32", "--batch-size", "4",
            "--epochs", "2", "--lr", "1e-3", "--accumulation", "2", "--clip-norm", "0.5", "--seed", "3",
            "--loss", "l1", "-q", *extra]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _one(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lowlight", *args], capture_output=True, text=True, env=_env(),
                          timeout=300)


def _torchrun(args: list[str], n: int = 2) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n),
           "-m", "lowlight", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    write_pairs(root / "train", [f"p{i}" for i in range(12)], size=(40, 36), seed=1)
    write_pairs(root / "val", [f"v{i}" for i in range(3)], size=(40, 36), seed=2)
    return root


def _max_difference(a: Path, b: Path) -> float:
    wa, wb = load_file(str(a)), load_file(str(b))
    assert wa.keys() == wb.keys()
    return max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)


@pytest.mark.slow
def test_two_processes_train_the_same_model_as_one(pairs, tmp_path):
    single, double = tmp_path / "one", tmp_path / "two"
    r1 = _one(_flags(pairs, single))
    assert r1.returncode == 0, r1.stderr
    r2 = _torchrun(_flags(pairs, double))
    assert r2.returncode == 0, r2.stderr
    assert _max_difference(single / "last.safetensors", double / "last.safetensors") < TOLERANCE
    # it trained: the weights moved, by far more than the tolerance
    from lowlight.models import create_model

    torch.manual_seed(3 * 1000)
    fresh = create_model("sid-unet", width=4, depth=2).state_dict()
    trained = load_file(str(double / "last.safetensors"))
    assert max(float((trained[k] - fresh[k]).abs().max()) for k in fresh) > 100 * TOLERANCE
    # one run folder, one set of files, written by rank 0; validation reduced over both ranks
    names = sorted(p.name for p in double.iterdir())
    assert names == sorted(p.name for p in single.iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    one_csv, two_csv = (single / "metrics.csv").read_text(), (double / "metrics.csv").read_text()
    assert len(two_csv.splitlines()) == 3  # header + 2 epochs, not 4
    import json

    assert json.loads((double / "config.json").read_text())["processes"] == 2
    psnr = lambda text: [float(line.split(",")[3]) for line in text.splitlines()[1:]]  # noqa: E731
    assert psnr(one_csv) == pytest.approx(psnr(two_csv), abs=1e-3)


@pytest.mark.slow
def test_a_distributed_run_resumes(pairs, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert _torchrun(_flags(pairs, whole)).returncode == 0
    first = _torchrun(_flags(pairs, parts, "--set", "stop_after=1"))
    assert first.returncode == 0, first.stderr
    again = _torchrun(["train", "--resume", str(parts), "--set", "stop_after=none", "-q"])
    assert again.returncode == 0, again.stderr
    assert _max_difference(whole / "last.safetensors", parts / "last.safetensors") < TOLERANCE


def test_batch_that_does_not_split_and_ensemble_are_clear_errors(pairs, tmp_path):
    odd = _torchrun(_flags(pairs, tmp_path / "odd", "--batch-size", "5"))
    assert odd.returncode != 0 and "must split evenly over 2 processes" in odd.stderr
    # each process says it in one line; the traceback after it is torchrun's report on its children
    assert "lowlight: error:" in odd.stderr and "lowlight/training.py" not in odd.stderr
    ens = _torchrun(_flags(pairs, tmp_path / "ens", "--ensemble", "2"))
    assert ens.returncode != 0 and "cannot be spread over torchrun processes" in ens.stderr
    assert not (tmp_path / "odd").exists() and not (tmp_path / "ens").exists()


def test_one_process_is_unchanged_without_torchrun(monkeypatch):
    """Plain `lowlight train` (no WORLD_SIZE, or torchrun with one process) never touches
    torch.distributed; a launch of several processes joins a group (here one that cannot be
    reached, which must be a clear error, not a hang or a traceback)."""
    from lowlight.errors import LowlightError
    from lowlight.training.ddp import context

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for world in (None, "1"):
        if world:
            monkeypatch.setenv("WORLD_SIZE", world)
        ctx = context(torch.device("cpu"))
        assert (ctx.rank, ctx.world, ctx.main, ctx.active) == (0, 1, True, False)
        assert not torch.distributed.is_initialized()
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(LowlightError, match="cannot join the torchrun process group"):
        context(torch.device("cpu"))  # the environment is read: two processes were asked for


def test_each_process_takes_its_share_of_every_global_batch():
    """Two processes' batches of 2 are, together, exactly the one process's batches of 4: the
    work is split, not copied (two plain copies would each do every sample)."""
    from lowlight.training.ddp import DistContext
    from lowlight.training.loop import _epoch_sampler

    data = list(range(12))
    for epoch in (0, 1):
        one = list(_epoch_sampler(data, 3, epoch, DistContext()))
        shares = [list(_epoch_sampler(data, 3, epoch, DistContext(rank=r, world=2))) for r in (0, 1)]
        assert sorted(shares[0] + shares[1]) == data and not set(shares[0]) & set(shares[1])
        for k in range(3):
            assert sorted(shares[0][2 * k:2 * k + 2] + shares[1][2 * k:2 * k + 2]) == sorted(one[4 * k:4 * k + 4])
    assert list(_epoch_sampler(data, 3, 0, DistContext())) != list(_epoch_sampler(data, 3, 1, DistContext()))
