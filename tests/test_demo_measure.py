"""The measured image properties react to the artifacts the clues name."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from spotfake.tasks.demo.measure import PROPERTIES, measure


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A 64x64 downscaled crop of a real photo shipped with scikit-image."""
    import skimage.data

    return np.asarray(
        Image.fromarray(skimage.data.chelsea()[100:228, 150:278]).resize((64, 64), Image.LANCZOS)
    )


def test_every_property_is_a_finite_float(photo: np.ndarray) -> None:
    props = measure(photo)
    assert list(props) == list(PROPERTIES)
    assert all(isinstance(v, float) and np.isfinite(v) for v in props.values())


def test_blur_lowers_high_frequency_energy_noise_and_sharpness(photo: np.ndarray) -> None:
    blurred = np.asarray(
        Image.fromarray(photo).resize((16, 16), Image.BILINEAR).resize((64, 64), Image.BICUBIC)
    )
    a, b = measure(photo), measure(blurred)
    assert b["hf_energy"] < a["hf_energy"] / 3
    assert b["noise_level"] < a["noise_level"]
    assert b["edge_sharpness"] < a["edge_sharpness"]


def test_nearest_upsampling_shows_a_two_pixel_grid_and_spectral_peaks(photo: np.ndarray) -> None:
    upsampled = photo[::2, ::2].repeat(2, axis=0).repeat(2, axis=1)
    a, b = measure(photo), measure(upsampled)
    assert a["grid_ratio"] < 0.3 < b["grid_ratio"]
    assert b["spectral_peak"] > a["spectral_peak"] + 0.5


def test_checkerboard_pattern_raises_the_spectral_peak(photo: np.ndarray) -> None:
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 2 - 1)[:, :, None] * 6
    patterned = np.clip(photo.astype(int) + checker, 0, 255).astype(np.uint8)
    assert measure(patterned)["spectral_peak"] > measure(photo)["spectral_peak"] + 1.0


def test_independent_colour_noise_breaks_channel_coherence(photo: np.ndarray) -> None:
    grey = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    noisy = np.clip(grey + np.random.default_rng(0).normal(0, 8, grey.shape), 0, 255).astype(np.uint8)
    assert measure(grey)["channel_coherence"] == pytest.approx(1.0)
    assert measure(grey)["saturation"] == 0.0
    assert measure(noisy)["channel_coherence"] < 0.5
    assert measure(noisy)["noise_level"] > measure(grey)["noise_level"] + 3
    assert measure(noisy)["noise_kurtosis"] < measure(grey)["noise_kurtosis"]


def test_flat_image_does_not_divide_by_zero() -> None:
    flat = np.full((64, 64, 3), 128, dtype=np.uint8)
    props = measure(flat)
    assert props["hf_energy"] == 0.0 and props["grid_ratio"] == 0.0 and props["noise_level"] == 0.0
