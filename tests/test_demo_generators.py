"""Each generator family trains and samples deterministically and leaves its family's traces."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import numpy as np
import pytest

from spotfake.tasks.demo.config import TrainConfig
from spotfake.tasks.demo.generators import FAMILIES
from spotfake.tasks.demo.generators.common import batches, deterministic_torch, to_tensor, to_uint8
from spotfake.tasks.demo.measure import measure

TINY = {
    "dcgan": TrainConfig(steps=3, batch_size=8, lr=4e-4, width=32),
    "vae": TrainConfig(steps=3, batch_size=8, lr=1e-3, width=32),
    "ddpm": TrainConfig(steps=3, batch_size=8, lr=1e-3, width=8, sample_steps=5),
}


@pytest.fixture(autouse=True, scope="module")
def _restore_torch_state() -> Iterator[None]:
    """The build switches torch to one deterministic thread; give the test process its settings back."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.fixture(scope="module")
def crops() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(16, 64, 64, 3), dtype=np.uint8)
    return images, np.arange(16) % 3


def run(family: str, crops: tuple[np.ndarray, np.ndarray], seed: int) -> np.ndarray:
    module = importlib.import_module(FAMILIES[family])
    generator = deterministic_torch(seed)
    model = module.train(crops[0], crops[1], 3, TINY[family], generator)
    return module.sample(model, np.array([0, 1, 2, 2]), TINY[family], generator)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_samples_are_deterministic_images(family: str, crops: tuple[np.ndarray, np.ndarray]) -> None:
    first = run(family, crops, 5)
    assert first.shape == (4, 64, 64, 3) and first.dtype == np.uint8
    assert np.array_equal(first, run(family, crops, 5))
    assert not np.array_equal(first, run(family, crops, 6))


def test_transposed_convolutions_leave_spectral_peaks_and_bilinear_decoding_smooths(
    crops: tuple[np.ndarray, np.ndarray],
) -> None:
    gan = [measure(image) for image in run("dcgan", crops, 1)]
    vae = [measure(image) for image in run("vae", crops, 1)]
    assert min(p["spectral_peak"] for p in gan) > 1.7  # above the 95th percentile of real crops
    assert max(p["hf_energy"] for p in vae) < min(p["hf_energy"] for p in gan)


def test_tensor_round_trip_and_batches_cover_every_index() -> None:
    images = np.random.default_rng(1).integers(0, 256, size=(5, 64, 64, 3), dtype=np.uint8)
    assert np.array_equal(to_uint8(to_tensor(images)), images)
    generator = deterministic_torch(0)
    seen = np.concatenate([b.numpy() for b in batches(10, 4, 5, generator)])
    assert len(seen) == 20 and set(seen[:10].tolist()) == set(range(10))
