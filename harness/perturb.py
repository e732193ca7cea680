"""Image perturbations for robustness runs: a spec language and pure, deterministic transforms.

A spec is a chain of steps joined by ``+``, applied left to right after decoding and before the model::

    jpeg:75            JPEG re-encoding at quality 75 (1-100, Pillow's default 4:2:0 chroma subsampling)
    webp:80            lossy WebP re-encoding at quality 80 (1-100)
    blur:1.0           Gaussian blur, sigma in pixels (> 0), per channel
    resize:0.5         bilinear rescale by a factor (0 < f <= 4)
    crop:224           centre crop to 224 x 224 (a shorter side is kept whole)
    noise:5            additive Gaussian noise, sigma on the 0-255 scale, seeded by the sample id
    social             preset: longest side down to 1080 (never up), then JPEG 75
    resize:0.5+jpeg:75 a chain

Each perturbed run gets its own folder (``<task>@<slug>``) and run key (:class:`harness.run_identity.RunIdentity`);
``results.json`` records the spec.
"""

from __future__ import annotations

import difflib
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results_contract import Perturbation as PerturbationEntry

SOCIAL_LONGEST_SIDE = 1080
SOCIAL_JPEG_QUALITY = 75


@dataclass(frozen=True)
class _Kind:
    """One perturbation name: its value type, allowed range and how the range is told to a user."""

    name: str
    integer: bool
    low: float | None
    high: float | None
    low_inclusive: bool
    help: str


KINDS: dict[str, _Kind] = {
    k.name: k
    for k in (
        _Kind("jpeg", True, 1, 100, True, "jpeg:QUALITY (1-100)"),
        _Kind("webp", True, 1, 100, True, "webp:QUALITY (1-100)"),
        _Kind("blur", False, 0, 50, False, "blur:SIGMA (px, 0 < sigma <= 50)"),
        _Kind("resize", False, 0, 4, False, "resize:FACTOR (0 < factor <= 4)"),
        _Kind("crop", True, 1, 16384, True, "crop:SIZE (px, >= 1)"),
        _Kind("noise", False, 0, 255, False, "noise:SIGMA (0-255 scale, 0 < sigma <= 255)"),
        _Kind("social", False, None, None, True, f"social (longest side {SOCIAL_LONGEST_SIDE}, JPEG 75)"),
    )
}
VALID = ", ".join(k.help for k in KINDS.values())
STRENGTH_LABELS = {
    "jpeg": "JPEG quality",
    "webp": "WebP quality",
    "blur": "blur sigma (px)",
    "resize": "resize factor",
    "crop": "crop size (px)",
    "noise": "noise sigma (0-255)",
}
"""Axis titles of robustness curves, per perturbation name."""
STRONGER_WHEN_LOWER = frozenset({"jpeg", "webp"})
"""Perturbations whose strength grows as the value falls (quality): their curves run from high to low."""


@dataclass(frozen=True)
class Step:
    """One perturbation with its strength (``None`` only for presets such as ``social``)."""

    name: str
    value: float | None = None

    @property
    def text(self) -> str:
        """Canonical spec text of this step, e.g. ``jpeg:75`` or ``blur:0.5``."""
        return self.name if self.value is None else f"{self.name}:{_fmt(self.value)}"

    @property
    def slug(self) -> str:
        """Folder-safe form, e.g. ``jpeg75``."""
        return self.name if self.value is None else f"{self.name}{_fmt(self.value)}"


@dataclass(frozen=True)
class Perturbation:
    """A chain of steps applied left to right."""

    steps: tuple[Step, ...]

    @property
    def spec(self) -> str:
        """Canonical spec text, e.g. ``resize:0.5+jpeg:75``."""
        return "+".join(s.text for s in self.steps)

    def describe(self) -> PerturbationEntry:
        """What ``results.json['perturbation']`` records."""
        return {
            "spec": self.spec,
            "slug": perturbation_slug(self),
            "steps": [{"name": s.name, "value": s.value} for s in self.steps],
        }

    def apply(self, sample_id: str, image: Image.Image, index: int = 0) -> Image.Image:
        """The perturbed RGB image of image ``index`` of sample ``sample_id`` (same inputs, same pixels)."""
        out = image.convert("RGB")
        for position, step in enumerate(self.steps):
            out = _apply_step(step, out, _seed(sample_id, index, position, step))
        return out

    def apply_all(self, sample_id: str, images: Sequence[Image.Image]) -> list[Image.Image]:
        """Every image of one sample, perturbed."""
        return [self.apply(sample_id, img, i) for i, img in enumerate(images)]


def _fmt(value: float) -> str:
    """Shortest exact text of a strength (``75``, ``0.5``), so distinct strengths never share a key."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _seed(sample_id: str, index: int, position: int, step: Step) -> int:
    text = f"{sample_id}\x00{index}\x00{position}\x00{step.text}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _bad(spec: str, why: str) -> SpotfakeError:
    return SpotfakeError(f"--perturb {spec!r}: {why} (valid: {VALID}; chain steps with '+')")


def _parse_value(kind: _Kind, raw: str, spec: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _bad(spec, f"{kind.name} needs a number, got {raw!r}") from None
    if not np.isfinite(value):
        raise _bad(spec, f"{kind.name} needs a finite number, got {raw!r}")
    if kind.integer:
        if not value.is_integer():
            raise _bad(spec, f"{kind.name} needs a whole number, got {raw!r}")
        value = float(int(value))
    assert kind.low is not None and kind.high is not None
    too_low = value < kind.low if kind.low_inclusive else value <= kind.low
    if too_low or value > kind.high:
        raise _bad(spec, f"{kind.name} strength {raw} is out of range")
    return value


def parse_step(text: str, spec: str) -> Step:
    """One ``name[:value]`` step; unknown names and out-of-range strengths raise SpotfakeError."""
    name, sep, raw = text.strip().partition(":")
    name = name.strip().lower()
    kind = KINDS.get(name)
    if kind is None:
        close = difflib.get_close_matches(name, list(KINDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _bad(spec, f"unknown perturbation {name or text!r}{hint}")
    if kind.low is None:
        if sep:
            raise _bad(spec, f"{name} takes no strength")
        return Step(name)
    if not sep or not raw.strip():
        raise _bad(spec, f"{name} needs a strength, e.g. {kind.help.split(' ')[0]}")
    return Step(name, _parse_value(kind, raw.strip(), spec))


def parse_perturbation(spec: str | None) -> Perturbation | None:
    """Parse ``jpeg:75`` or ``resize:0.5+jpeg:75``; ``None``/``""``/``none`` means no perturbation."""
    if spec is None or not spec.strip() or spec.strip().lower() == "none":
        return None
    if "," in spec:
        raise _bad(spec, "one chain per run; a list of strengths (jpeg:95,75) is for `spotfake robustness`")
    parts = spec.split("+")
    if any(not p.strip() for p in parts):
        raise _bad(spec, "empty step")
    return Perturbation(tuple(parse_step(p, spec) for p in parts))


def parse_sweep(spec: str) -> list[Perturbation]:
    """A robustness axis ``name:v1,v2,...`` (or a single chain) as one perturbation per strength."""
    text = spec.strip()
    if "," not in text:
        one = parse_perturbation(text)
        if one is None:
            raise _bad(spec, "empty sweep")
        return [one]
    if "+" in text:
        raise _bad(spec, "a sweep varies one perturbation (name:v1,v2,...); chains take one strength each")
    name, _, values = text.partition(":")
    raw_values = [v.strip() for v in values.split(",")]
    if any(not v for v in raw_values):
        raise _bad(spec, "empty strength in the list")
    out = []
    for raw in raw_values:
        single = f"{name.strip()}:{raw}"
        try:
            p = parse_perturbation(single)
        except SpotfakeError as exc:
            raise SpotfakeError(str(exc).replace(repr(single), repr(spec), 1)) from None
        assert p is not None
        out.append(p)
    return out


def perturbation_slug(spec: Perturbation | str | None) -> str:
    """Folder suffix of a perturbation, e.g. ``jpeg75`` or ``resize0.5+jpeg75`` (``""`` for none)."""
    p = parse_perturbation(spec) if isinstance(spec, str) else spec
    return "" if p is None else "+".join(s.slug for s in p.steps)


def image_transform(perturbation: Perturbation | None) -> Callable[[str, list[Any]], list[Any]] | None:
    """A ``(sample_id, images) -> images`` hook for the decoder, or ``None`` without a perturbation."""
    if perturbation is None:
        return None
    return perturbation.apply_all


# ---- the pure transforms -------------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def _blur(image: Image.Image, sigma: float) -> Image.Image:
    from scipy.ndimage import gaussian_filter

    arr = np.asarray(image, dtype=np.float32)
    out = gaussian_filter(arr, sigma=(sigma, sigma, 0), mode="reflect")
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")


def _resize(image: Image.Image, factor: float) -> Image.Image:
    w, h = image.size
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return image if size == image.size else image.resize(size, Image.Resampling.BILINEAR)


def _crop(image: Image.Image, size: int) -> Image.Image:
    w, h = image.size
    cw, ch = min(w, size), min(h, size)
    left, top = (w - cw) // 2, (h - ch) // 2
    return image.crop((left, top, left + cw, top + ch))


def _noise(image: Image.Image, sigma: float, seed: int) -> Image.Image:
    arr = np.asarray(image, dtype=np.float64)
    noisy = arr + np.random.default_rng(seed).normal(0.0, sigma, size=arr.shape)
    return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), "RGB")


def _social(image: Image.Image) -> Image.Image:
    longest = max(image.size)
    if longest > SOCIAL_LONGEST_SIDE:
        image = _resize(image, SOCIAL_LONGEST_SIDE / longest)
    return _encode(image, "JPEG", SOCIAL_JPEG_QUALITY)


def _apply_step(step: Step, image: Image.Image, seed: int) -> Image.Image:
    value = step.value
    if step.name == "social":
        return _social(image)
    assert value is not None
    if step.name == "jpeg":
        return _encode(image, "JPEG", int(value))
    if step.name == "webp":
        return _encode(image, "WEBP", int(value))
    if step.name == "blur":
        return _blur(image, value)
    if step.name == "resize":
        return _resize(image, value)
    if step.name == "crop":
        return _crop(image, int(value))
    if step.name == "noise":
        return _noise(image, value, seed)
    raise SpotfakeError(f"perturbation {step.name!r} has no transform")  # unreachable: parse_step checks
