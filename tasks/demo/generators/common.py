"""Shared pieces of the generator families: deterministic torch setup, tensors, and batching."""

from __future__ import annotations

import numpy as np
import torch


def deterministic_torch(seed: int) -> torch.Generator:
    """One thread, deterministic kernels, seeded global RNG; returns a generator seeded with ``seed``."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [-1, 1] -> uint8 (N, H, W, 3), rounded half to even."""
    scaled = images.detach().clamp(-1.0, 1.0).add(1.0).mul(127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def batches(n: int, batch_size: int, steps: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Index batches for ``steps`` steps: seeded permutations of ``range(n)`` laid end to end."""
    out: list[torch.Tensor] = []
    order = torch.empty(0, dtype=torch.long)
    while len(out) < steps:
        if len(order) < batch_size:
            order = torch.cat([order, torch.randperm(n, generator=generator)])
        out.append(order[:batch_size])
        order = order[batch_size:]
    return out
