"""A small class-conditional DDPM (Ho et al. 2020): a three-level U-Net trained to predict the noise.

Sampled with the full ancestral chain of ``config.sample_steps`` steps on a cosine schedule. Trained for
minutes rather than days, its samples keep the family's typical traces: a residual noise floor that is not
shaped like camera noise, blotchy low-frequency colour, and weakly formed edges.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spotfake.tasks.demo.config import TrainConfig
from spotfake.tasks.demo.generators.common import batches, to_tensor, to_uint8

EMB_DIM = 64


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels_in)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, 1, 1)
        self.emb = nn.Linear(EMB_DIM, channels_out)
        self.norm2 = nn.GroupNorm(8, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, 1, 1)
        self.skip = nn.Conv2d(channels_in, channels_out, 1) if channels_in != channels_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """64x64 -> 32x32 -> 16x16 and back, widths c, 2c, 4c; skips are added after a 1x1 projection."""

    def __init__(self, n_classes: int, width: int) -> None:
        super().__init__()
        c = width
        self.time = nn.Sequential(nn.Linear(EMB_DIM, EMB_DIM), nn.SiLU(), nn.Linear(EMB_DIM, EMB_DIM))
        self.label = nn.Embedding(n_classes, EMB_DIM)
        self.inp = nn.Conv2d(3, c, 3, 1, 1)
        self.down1 = ResBlock(c, c)
        self.pool1 = nn.Conv2d(c, c, 3, 2, 1)
        self.down2 = ResBlock(c, 2 * c)
        self.pool2 = nn.Conv2d(2 * c, 2 * c, 3, 2, 1)
        self.mid = ResBlock(2 * c, 4 * c)
        self.lift2 = nn.Conv2d(4 * c, 2 * c, 1)
        self.up2 = ResBlock(2 * c, 2 * c)
        self.lift1 = nn.Conv2d(2 * c, c, 1)
        self.up1 = ResBlock(c, c)
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, 3, 3, 1, 1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        emb = self.time(timestep_embedding(t, EMB_DIM)) + self.label(labels)
        h1 = self.down1(self.inp(x), emb)
        h2 = self.down2(self.pool1(h1), emb)
        h = self.mid(self.pool2(h2), emb)
        h = self.up2(self.lift2(F.interpolate(h, scale_factor=2.0, mode="nearest")) + h2, emb)
        h = self.up1(self.lift1(F.interpolate(h, scale_factor=2.0, mode="nearest")) + h1, emb)
        return self.out(h)


def cosine_alphas_bar(steps: int) -> torch.Tensor:
    """Cumulative signal fractions of the cosine schedule (Nichol and Dhariwal 2021)."""
    s = 0.008
    x = torch.linspace(0, steps, steps + 1, dtype=torch.float64)
    f = torch.cos(((x / steps) + s) / (1 + s) * math.pi / 2) ** 2
    alphas_bar = f / f[0]
    betas = (1 - alphas_bar[1:] / alphas_bar[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0).float()


def train(
    images: np.ndarray, labels: np.ndarray, n_classes: int, config: TrainConfig, generator: torch.Generator
) -> nn.Module:
    """Noise-prediction loss at uniformly drawn timesteps (AdamW) for ``config.steps`` steps."""
    data, targets = to_tensor(images), torch.from_numpy(labels).long()
    model = UNet(n_classes, config.width)
    optimiser = torch.optim.AdamW(model.parameters(), config.lr, weight_decay=0.0)
    alphas_bar = cosine_alphas_bar(config.sample_steps)
    for index in batches(len(data), config.batch_size, config.steps, generator):
        x0, y = data[index], targets[index]
        t = torch.randint(0, config.sample_steps, (len(index),), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        a = alphas_bar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(model(xt, t, y), noise)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    model.eval()
    return model


@torch.no_grad()
def sample(
    model: nn.Module, labels: np.ndarray, config: TrainConfig, generator: torch.Generator
) -> np.ndarray:
    """Ancestral DDPM sampling from pure noise, one image per label, with the predicted clean image
    clipped to [-1, 1] at every step (as in Ho et al.'s sampler)."""
    y = torch.from_numpy(labels).long()
    alphas_bar = cosine_alphas_bar(config.sample_steps)
    alphas_bar_prev = torch.cat([torch.ones(1), alphas_bar[:-1]])
    x = torch.randn(len(y), 3, 64, 64, generator=generator)
    for step in reversed(range(config.sample_steps)):
        t = torch.full((len(y),), step, dtype=torch.long)
        eps = model(x, t, y)
        a_bar, a_prev = alphas_bar[step], alphas_bar_prev[step]
        beta = 1 - a_bar / a_prev
        x0 = ((x - (1 - a_bar).sqrt() * eps) / a_bar.sqrt()).clamp(-1.0, 1.0)
        mean = (a_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - a_prev) * x) / (1 - a_bar)
        if step > 0:
            var = beta * (1 - a_prev) / (1 - a_bar)
            x = mean + var.sqrt() * torch.randn(x.shape, generator=generator)
        else:
            x = mean
    return to_uint8(x)
