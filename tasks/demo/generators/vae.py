"""Conditional convolutional VAE (Kingma and Welling 2014; Sohn et al. 2015) with a bilinear-upsampling decoder.

The decoder is trained to minimise squared error under a Gaussian prior on the latent code, so its
samples average over the details it cannot predict: the family's typical over-smoothing, weak
high-frequency energy, a near-absent noise floor and muted colours.
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
KL_WEIGHT = 1.0


class Encoder(nn.Module):
    def __init__(self, n_classes: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for out in (width // 4, width // 2, width, width):
            layers += [nn.Conv2d(channels, out, 4, 2, 1), nn.LeakyReLU(0.2)]
            channels = out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.embed = nn.Embedding(n_classes, EMB_DIM)
        self.head = nn.Linear(channels * 16 + EMB_DIM, 2 * Z_DIM)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.cat([self.body(x), self.embed(labels)], dim=1)
        mean, log_var = self.head(features).chunk(2, dim=1)
        return mean, log_var.clamp(-10.0, 10.0)


class Decoder(nn.Module):
    def __init__(self, n_classes: int, width: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_classes, EMB_DIM)
        self.project = nn.Linear(Z_DIM + EMB_DIM, width * 16)
        layers: list[nn.Module] = [nn.Unflatten(1, (width, 4, 4)), nn.ReLU()]
        channels = width
        for out in (width, width // 2, width // 4, width // 8):
            layers += [
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(channels, out, 3, 1, 1),
                nn.ReLU(),
            ]
            channels = out
        layers += [nn.Conv2d(channels, 3, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(torch.cat([z, self.embed(labels)], dim=1)))


class VAE(nn.Module):
    def __init__(self, n_classes: int, width: int) -> None:
        super().__init__()
        self.encoder = Encoder(n_classes, width)
        self.decoder = Decoder(n_classes, width)


def train(
    images: np.ndarray, labels: np.ndarray, n_classes: int, config: TrainConfig, generator: torch.Generator
) -> nn.Module:
    """Minimise summed squared error plus KL divergence (Adam) for ``config.steps`` steps."""
    data, targets = to_tensor(images), torch.from_numpy(labels).long()
    model = VAE(n_classes, config.width)
    optimiser = torch.optim.Adam(model.parameters(), config.lr)
    for index in batches(len(data), config.batch_size, config.steps, generator):
        x, y = data[index], targets[index]
        mean, log_var = model.encoder(x, y)
        z = mean + torch.randn(mean.shape, generator=generator) * (0.5 * log_var).exp()
        recon = model.decoder(z, y)
        rec = F.mse_loss(recon, x, reduction="sum") / len(x)
        kl = -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum() / len(x)
        loss = rec / (2 * 0.1**2) / (64 * 64 * 3) + KL_WEIGHT * kl / (64 * 64 * 3)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    model.eval()
    return model


@torch.no_grad()
def sample(
    model: nn.Module, labels: np.ndarray, config: TrainConfig, generator: torch.Generator
) -> np.ndarray:
    """Decode prior samples, one per label."""
    y = torch.from_numpy(labels).long()
    z = torch.randn(len(y), Z_DIM, generator=generator)
    return to_uint8(model.decoder(z, y))  # type: ignore[operator]
