"""Training across processes and machines: PyTorch DDP under ``torchrun``.

``torchrun --nproc_per_node N -m lowlight train ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; :func:`context` joins the process group (NCCL on CUDA, gloo on CPU) and says who
this process is. Plain ``lowlight train`` gets a context of one process and nothing changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ..errors import LowlightError


@dataclass(frozen=True)
class DistContext:
    """This process's place in a run: ``rank`` of ``world`` processes (``world`` 1: no DDP)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    started: bool = False  #: this module initialised the process group (and will destroy it)

    @property
    def main(self) -> bool:
        """Rank 0: the only process that logs and writes files."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def all_mean(self, values: list[float], device: torch.device) -> list[float]:
        """The mean of each value over all processes (the values themselves with one process)."""
        if not self.active:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return (t / self.world).tolist()

    def all_sum(self, values: list[float], device: torch.device) -> list[float]:
        """The sum of each value over all processes."""
        if not self.active:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every process when ``flag`` is true on any (so all stop together)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item() > 0)

    def barrier(self) -> None:
        """Wait for every process (at the end of a run: no process tears the group down while
        another still writes, which gloo answers by aborting it)."""
        if self.active:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.started and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def context(device: torch.device) -> DistContext:
    """The process group of a ``torchrun`` launch (joined here if not yet), or one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    started = False
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        try:
            torch.distributed.init_process_group(backend=backend)
        except (RuntimeError, ValueError) as exc:
            raise LowlightError(f"cannot join the torchrun process group ({backend}): "
                                f"{str(exc).splitlines()[0]}; check --rdzv-endpoint and that every node can "
                                "reach it") from None
        started = True
    return DistContext(rank, world, local_rank, started)


def training_device(device: torch.device, dist: DistContext) -> torch.device:
    """One GPU per process under torchrun (``LOCAL_RANK``); the CPU is shared."""
    if device.type == "cuda" and dist.active:
        return torch.device("cuda", dist.local_rank)
    return device
