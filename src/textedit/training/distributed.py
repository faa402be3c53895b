"""Scale-out with ``torchrun``: one process per device, gradients averaged across processes.

Each process takes its slice of the global batch (see :mod:`textedit.training.data`); after
each backward pass the gradients are averaged with ``all_reduce``, so every process applies
the same update as one process on the whole batch would. We average explicitly instead of
wrapping the model in ``DistributedDataParallel`` because a training iteration runs several
forward/backward passes over different subsets of the slots (reconstruction, discriminator,
generator), which DDP's one-forward-one-backward bookkeeping does not fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from textedit.utils.device import resolve_device

__all__ = ["DistributedContext"]


@dataclass
class DistributedContext:
    """Rank, world size and device of this process."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: str = "auto") -> "DistributedContext":
        """Read ``torchrun``'s variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``).

        Starts the process group (NCCL on CUDA, gloo on the CPU) when the world has more
        than one process.
        """
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = resolve_device(device)  # a clear error for CUDA on a machine without it
        if device == "cuda":  # set_device needs an index: this process's GPU under torchrun
            device = f"cuda:{local}"
        dev = torch.device(device)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        if world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        return cls(rank, world, dev)

    def average_gradients(self, params: list[torch.nn.Parameter]) -> None:
        """Average the gradients of ``params`` over all processes (no-op for one process)."""
        if self.world_size == 1:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()
