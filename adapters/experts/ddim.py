"""Deterministic DDIM (eta = 0) inversion and reconstruction over a respaced diffusion schedule, as
guided-diffusion computes them (github.com/openai/guided-diffusion, MIT licence; the DIRE fork
github.com/ZhendongWang6/DIRE ``guided-diffusion/guided_diffusion``):

- ``linear_betas``: Ho et al.'s linear schedule scaled to ``steps`` (``gaussian_diffusion.py``
  ``get_named_beta_schedule``), float64.
- ``ddim_timesteps``: ``"ddimN"`` keeps ``range(0, steps, stride)`` for the smallest integer stride giving
  exactly N steps (``respace.py`` ``space_timesteps``); ddim20 over 1000 steps is 0, 50, ..., 950.
- ``Schedule``: the respaced process (``respace.py`` ``SpacedDiffusion``): betas ``1 - abar_i / abar_prev``
  over the kept steps, their cumulative product again in float64, each coefficient cast to float32 when used
  (``_extract_into_tensor``); the network sees the original timestep (``_WrappedModel``, no rescaling).
- each step predicts x0 from the first 3 output channels (epsilon; learned-sigma channels are ignored by
  DDIM), clamps it to [-1, 1] (``clip_denoised``), re-derives epsilon from it, then moves to the next
  (inversion, ``ddim_reverse_sample``) or previous (``ddim_sample``) kept step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from spotfake.harness.errors import SpotfakeError

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``model(x, timesteps)`` -> (N, C or 2C, H, W): epsilon first, learned variance (if any) after."""


def linear_betas(steps: int) -> np.ndarray:
    """The linear beta schedule over ``steps`` steps (1e-4 .. 0.02 at 1000 steps), float64."""
    scale = 1000 / steps
    return np.linspace(scale * 0.0001, scale * 0.02, steps, dtype=np.float64)


def ddim_timesteps(steps: int, respacing: str) -> list[int]:
    """The kept steps of ``"ddimN"``: ``range(0, steps, stride)`` with the first stride giving N of them."""
    if not respacing.startswith("ddim") or not respacing[4:].isdigit():
        raise SpotfakeError(f"timestep_respacing {respacing!r}: only 'ddimN' (e.g. 'ddim20') is supported")
    count = int(respacing[4:])
    for stride in range(1, steps):
        if len(range(0, steps, stride)) == count:
            return list(range(0, steps, stride))
    raise SpotfakeError(f"timestep_respacing {respacing!r}: no integer stride gives {count} of {steps} steps")


@dataclass(frozen=True)
class Schedule:
    """A respaced diffusion process: the kept original steps and the float64 ``alphas_cumprod`` over them."""

    timesteps: tuple[int, ...]
    alphas_cumprod: np.ndarray

    @classmethod
    def respaced(cls, betas: np.ndarray, keep: list[int]) -> Schedule:
        """Keep the steps ``keep`` of the process with ``betas``, as ``SpacedDiffusion`` does."""
        base = np.cumprod(1.0 - betas, axis=0)
        new_betas, last = [], 1.0
        for index in sorted(keep):
            new_betas.append(1 - base[index] / last)
            last = base[index]
        return cls(tuple(sorted(keep)), np.cumprod(1.0 - np.array(new_betas, dtype=np.float64), axis=0))

    def coefficient(self, values: np.ndarray, index: int) -> torch.Tensor:
        """One float64 coefficient as the float32 scalar tensor the sampler multiplies with."""
        return torch.tensor(values[index], dtype=torch.float64).float()

    def predict(self, model: EpsModel, x: torch.Tensor, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(clamped x0, epsilon re-derived from it) at kept step ``index``."""
        abar = self.alphas_cumprod
        recip = self.coefficient(np.sqrt(1.0 / abar), index).to(x.device)
        recipm1 = self.coefficient(np.sqrt(1.0 / abar - 1), index).to(x.device)
        t = torch.full((x.shape[0],), self.timesteps[index], dtype=torch.int64, device=x.device)
        eps = model(x, t)[:, : x.shape[1]]
        x0 = (recip * x - recipm1 * eps).clamp(-1, 1)
        return x0, (recip * x - x0) / recipm1

    def invert(self, model: EpsModel, x: torch.Tensor) -> torch.Tensor:
        """The DDIM latent of ``x``: the deterministic reverse ODE from step 0 up to the last kept step."""
        following = np.append(self.alphas_cumprod[1:], 0.0)
        for index in range(len(self.timesteps)):
            x0, eps = self.predict(model, x, index)
            nxt = self.coefficient(following, index).to(x.device)
            x = x0 * torch.sqrt(nxt) + torch.sqrt(1 - nxt) * eps
        return x

    def reconstruct(self, model: EpsModel, latent: torch.Tensor) -> torch.Tensor:
        """DDIM sampling with eta = 0 from ``latent`` down to step 0."""
        previous = np.append(1.0, self.alphas_cumprod[:-1])
        x = latent
        for index in reversed(range(len(self.timesteps))):
            x0, eps = self.predict(model, x, index)
            prev = self.coefficient(previous, index).to(x.device)
            x = x0 * torch.sqrt(prev) + torch.sqrt(1 - prev) * eps
        return x


def ddim_schedule(steps: int, noise_schedule: str, respacing: str) -> Schedule:
    """The respaced schedule of ``compute_dire.sh`` (``linear``, 1000 steps, ``ddim20``) or a variant."""
    if noise_schedule != "linear":
        raise SpotfakeError(
            f"noise_schedule {noise_schedule!r}: only 'linear' (the ADM 256x256 models') is supported"
        )
    return Schedule.respaced(linear_betas(steps), ddim_timesteps(steps, respacing))
