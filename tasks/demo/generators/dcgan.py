"""DCGAN (Radford et al. 2016): transposed-convolution generator, strided-convolution discriminator.

Conditioned on the source photo (generator: a label embedding joined to the noise; discriminator: a
projection term). Stride-2 transposed convolutions with 4x4 kernels overlap unevenly, which leaves the
family's typical checkerboard pattern and spectral peaks at multiples of 1/4 and 1/2 cycles per pixel.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spotfake.tasks.demo.config import TrainConfig
from spotfake.tasks.demo.generators.common import batches, to_tensor, to_uint8

Z_DIM = 64
EMB_DIM = 16


class Generator(nn.Module):
    """Noise and label embedding -> 4x4 map -> four stride-2 transposed convolutions -> 64x64 RGB."""

    def __init__(self, n_classes: int, width: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_classes, EMB_DIM)
        self.project = nn.Linear(Z_DIM + EMB_DIM, width * 16)
        layers: list[nn.Module] = [nn.Unflatten(1, (width, 4, 4)), nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
        for _ in range(3):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, 3, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(torch.cat([z, self.embed(labels)], dim=1)))


class Discriminator(nn.Module):
    """Four stride-2 convolutions with a linear output plus a projection term for the label."""

    def __init__(self, n_classes: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for out in (width, width * 2, width * 4, width * 8):
            layers += [nn.Conv2d(channels, out, 4, 2, 1), nn.LeakyReLU(0.2)]
            channels = out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(channels * 16, 1)
        self.embed = nn.Embedding(n_classes, channels * 16)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.out(h).squeeze(1) + (self.embed(labels) * h).sum(1)


def train(
    images: np.ndarray, labels: np.ndarray, n_classes: int, config: TrainConfig, generator: torch.Generator
) -> nn.Module:
    """Train with the non-saturating GAN loss (Adam 2e-4, beta1 0.5) for ``config.steps`` steps."""
    data, targets = to_tensor(images), torch.from_numpy(labels).long()
    g, d = Generator(n_classes, config.width), Discriminator(n_classes, max(4, config.width // 4))
    opt_g = torch.optim.Adam(g.parameters(), config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), config.lr, betas=(0.5, 0.999))
    for index in batches(len(data), config.batch_size, config.steps, generator):
        real, y = data[index], targets[index]
        z = torch.randn(len(index), Z_DIM, generator=generator)
        fake = g(z, y)
        loss_d = F.softplus(-d(real, y)).mean() + F.softplus(d(fake.detach(), y)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-d(fake, y)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    g.eval()
    return g


@torch.no_grad()
def sample(
    model: nn.Module, labels: np.ndarray, config: TrainConfig, generator: torch.Generator
) -> np.ndarray:
    """One image per label (batch-norm in inference mode)."""
    y = torch.from_numpy(labels).long()
    z = torch.randn(len(y), Z_DIM, generator=generator)
    return to_uint8(model(z, y))
