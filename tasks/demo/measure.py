"""Image properties that clues are written from: pure functions of one 64x64 RGB uint8 image.

Every property is a single float, computed on the image as stored (after PNG round trip), so anyone can
recompute a clue's evidence from the committed file:

- ``hf_energy``: share of the spectral power of the grey image (mean removed, Hann window) above 0.25
  cycles/pixel, relative to all power above 0.02 cycles/pixel.
- ``spectral_peak``: the strongest of the power-spectrum values of the Laplacian residual at the
  frequencies a stride-2 or stride-4 upsampler repeats at (0, 1/4 and 1/2 cycles/pixel combinations),
  divided by the median power of the same radius ring; log10.
- ``grid_ratio``: |log| of the ratio between the mean absolute difference of neighbouring pixels inside
  2x2 cells and across cell borders (both axes; 0.1 grey level added to both); 0 for images with no 2-pixel period.
- ``noise_level``: robust standard deviation (1.4826 x MAD, 0-255 grey levels) of the residual after a 3x3
  median filter.
- ``noise_kurtosis``: excess kurtosis of that residual (heavy tails = residual concentrated on edges).
- ``channel_coherence``: mean correlation between the R, G and B median-filter residuals (camera noise and
  demosaicking make them move together).
- ``saturation``: mean HSV saturation (0-1).
- ``edge_sharpness``: mean of the top 5% Sobel gradient magnitudes of the grey image (0-255 levels per pixel).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

PROPERTIES: tuple[str, ...] = (
    "hf_energy",
    "spectral_peak",
    "grid_ratio",
    "noise_level",
    "noise_kurtosis",
    "channel_coherence",
    "saturation",
    "edge_sharpness",
)

_LUMA = np.array([0.299, 0.587, 0.114])


def grey(image: np.ndarray) -> np.ndarray:
    """Luma in 0-255 as float64."""
    return image.astype(np.float64) @ _LUMA


def _radius(n: int) -> np.ndarray:
    f = np.fft.fftfreq(n)
    return np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)


def hf_energy(image: np.ndarray) -> float:
    g = grey(image)
    n = g.shape[0]
    window = np.outer(np.hanning(n), np.hanning(n))
    power = np.abs(np.fft.fft2((g - g.mean()) * window)) ** 2
    r = _radius(n)
    total = power[r > 0.02].sum()
    return float(power[r > 0.25].sum() / total) if total > 0 else 0.0


def spectral_peak(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    n = x.shape[0]
    lap = np.stack([ndimage.laplace(x[:, :, c], mode="reflect") for c in range(3)])
    power = (np.abs(np.fft.fft2(lap, axes=(1, 2))) ** 2).mean(axis=0)
    r = _radius(n)
    best = 0.0
    for fy in (0, n // 4, n // 2):
        for fx in (0, n // 4, n // 2):
            if fy == 0 and fx == 0:
                continue
            radius = r[fy, fx]
            ring = (np.abs(r - radius) < 1.5 / n) & (power != power[fy, fx])
            reference = np.median(power[ring]) if ring.any() else 0.0
            if reference > 0:
                best = max(best, power[fy, fx] / reference)
    return float(np.log10(best)) if best > 0 else 0.0


def grid_ratio(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    dx = np.abs(np.diff(x, axis=1))
    dy = np.abs(np.diff(x, axis=0))
    inside = dx[:, 0::2].mean() + dy[0::2].mean()
    across = dx[:, 1::2].mean() + dy[1::2].mean()
    return float(abs(np.log((inside + 0.1) / (across + 0.1))))


def _residual(channel: np.ndarray) -> np.ndarray:
    return channel - ndimage.median_filter(channel, size=3, mode="reflect")


def noise_level(image: np.ndarray) -> float:
    res = _residual(grey(image))
    return float(1.4826 * np.median(np.abs(res - np.median(res))))


def noise_kurtosis(image: np.ndarray) -> float:
    res = _residual(grey(image)).ravel()
    centred = res - res.mean()
    var = (centred**2).mean()
    return float((centred**4).mean() / var**2 - 3.0) if var > 0 else 0.0


def channel_coherence(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    res = [_residual(x[:, :, c]).ravel() for c in range(3)]
    values = []
    for a, b in ((0, 1), (1, 2), (0, 2)):
        sa, sb = res[a].std(), res[b].std()
        values.append(
            float(np.mean((res[a] - res[a].mean()) * (res[b] - res[b].mean())) / (sa * sb))
            if sa > 0 and sb > 0
            else 1.0
        )
    return float(np.mean(values))


def saturation(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    top, bottom = x.max(axis=2), x.min(axis=2)
    sat = np.where(top > 0, (top - bottom) / np.maximum(top, 1e-9), 0.0)
    return float(sat.mean())


def edge_sharpness(image: np.ndarray) -> float:
    g = grey(image)
    magnitude = (
        np.hypot(ndimage.sobel(g, axis=0, mode="reflect"), ndimage.sobel(g, axis=1, mode="reflect")) / 8.0
    )
    cut = np.quantile(magnitude, 0.95)
    return float(magnitude[magnitude >= cut].mean())


MEASURES: dict[str, Callable[[np.ndarray], float]] = {
    "hf_energy": hf_energy,
    "spectral_peak": spectral_peak,
    "grid_ratio": grid_ratio,
    "noise_level": noise_level,
    "noise_kurtosis": noise_kurtosis,
    "channel_coherence": channel_coherence,
    "saturation": saturation,
    "edge_sharpness": edge_sharpness,
}


def measure(image: np.ndarray) -> dict[str, float]:
    """All properties of one uint8 (H, W, 3) image, rounded to 6 significant digits for stable output."""
    return {name: float(f"{MEASURES[name](image):.6g}") for name in PROPERTIES}
