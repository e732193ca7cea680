"""Data-parallel context under torchrun / accelerate launch: rank, world size, barrier.

The engine reads the standard launcher variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); with more than
one process it joins the default torch.distributed group (gloo, which works on CPU and beside NCCL) only to
wait for the other ranks before rank 0 merges their records. Nothing else is communicated: each rank writes
its own records file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a data-parallel run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def current() -> DistContext:
    """The context from the launcher's environment variables (single process when they are absent)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    return DistContext(rank=rank, world_size=world, local_rank=local)


def barrier(ctx: DistContext, timeout_s: float = 24 * 3600) -> None:
    """Wait for every rank (no-op in a single process). Initialises a gloo group on first use."""
    if not ctx.distributed:
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(
            backend="gloo", rank=ctx.rank, world_size=ctx.world_size, timeout=timedelta(seconds=timeout_s)
        )
    dist.barrier()


def shutdown(ctx: DistContext) -> None:
    """Leave the process group if this process joined one."""
    if not ctx.distributed:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
