"""Explanations written from an image's measured properties, against the statistics of real crops.

Thresholds are percentiles of each property over the real training crops (:func:`real_statistics`).
A property is *atypical* when it lies outside the 5th-95th percentile band; its deviation is how far
outside, in units of the distance from the median to that band edge. A fake's clue names its most atypical
properties (up to three, in the directions that have a meaning for generated images); a real image's clue
names properties that lie inside the band. Each (property, direction) has several phrasings; a seeded
generator picks one, so the wording varies the way FakeClue's does while staying learnable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spotfake.tasks.demo.measure import PROPERTIES

PERCENTILES = (5, 25, 50, 75, 95)

SUBJECTS: dict[str, tuple[str, ...]] = {
    "human": ("a person", "a human face or figure", "a portrait"),
    "animal": ("an animal", "a cat's fur and face", "an animal photograph"),
    "object": ("an everyday object", "a photographed object", "a man-made object"),
    "scene": ("an outdoor scene", "a natural scene", "a landscape detail"),
    "texture": ("a surface texture", "a natural texture", "a material surface"),
    "medical": ("a medical or microscopy image", "stained tissue or a fundus photograph", "a medical image"),
    "space": ("a deep-space photograph", "a telescope image", "stars and galaxies"),
}

FAKE_PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("hf_energy", "low"): (
        "Fine detail is missing: the high-frequency energy is far below that of real photographs, so surfaces look smeared and waxy.",
        "The image is over-smoothed; almost none of its spectral energy lies at high frequencies, unlike a real photo.",
        "Textures lack the fine grain of a camera image and dissolve into soft, blurry patches.",
    ),
    ("hf_energy", "high"): (
        "It carries an excess of high-frequency energy, a grainy layer of detail that natural photographs do not have at this scale.",
        "The spectrum holds far too much energy at high frequencies, giving the surface a synthetic, noisy grain.",
        "Fine-scale detail is exaggerated everywhere, more high-frequency content than any real crop shows.",
    ),
    ("spectral_peak", "high"): (
        "The frequency spectrum shows sharp periodic peaks at a quarter and half of the sampling rate, the fingerprint of upsampling layers.",
        "Regularly spaced spikes appear in the Fourier spectrum, a grid pattern left by the generator's upsampling.",
        "A periodic checkerboard pattern is visible in the spectrum as bright peaks at fixed frequencies, typical of upsampling layers.",
    ),
    ("grid_ratio", "high"): (
        "Neighbouring pixels follow a 2x2 block pattern, with different behaviour inside and across the blocks, a checkerboard artifact.",
        "Pixel differences repeat with a period of two pixels, revealing the grid of an upsampling generator.",
        "A fine checkerboard texture runs across the image: pixels pair up in 2x2 cells.",
    ),
    ("noise_level", "low"): (
        "There is almost no sensor noise; the residual after denoising is unnaturally flat.",
        "The noise floor is missing, the image is cleaner than any camera could capture.",
        "Flat regions are perfectly clean with no trace of photographic grain.",
    ),
    ("noise_level", "high"): (
        "A strong noise layer covers the whole image, much heavier than a camera's sensor noise.",
        "The residual noise is far stronger than in real photographs, as if leftover noise was never removed.",
        "Heavy speckled noise sits on top of the content everywhere, even in flat areas.",
    ),
    ("noise_kurtosis", "low"): (
        "The residual noise is spread evenly like random static instead of concentrating along edges as in a photograph.",
        "Its noise residual is uniform and Gaussian-like, not tied to real edges and textures.",
        "High-frequency residue is scattered uniformly over the frame rather than following object boundaries.",
    ),
    ("noise_kurtosis", "high"): (
        "The residual energy gathers in a few isolated blotches and spikes rather than along natural edges.",
        "Isolated bright specks and blobs dominate the noise residual, an irregular pattern real cameras do not produce.",
        "The fine residue is concentrated in scattered spots, a patchy pattern typical of synthesis.",
    ),
    ("channel_coherence", "low"): (
        "The red, green and blue channels do not share their fine detail, unlike a camera image, where demosaicking ties them together.",
        "Pixel-level detail differs from one colour channel to the next instead of moving together as in a photograph.",
        "The colour channels' fine residues are largely independent of each other, a sign of per-channel synthesis.",
    ),
    ("saturation", "low"): (
        "Colours are washed out and greyish, duller than the content should be.",
        "The palette is muted and desaturated, as if the colours were averaged away.",
        "Colour saturation is abnormally low, leaving a flat, faded look.",
    ),
    ("saturation", "high"): (
        "Colours are oversaturated and garish, stronger than real lighting produces.",
        "The saturation is unnaturally high, with vivid tints that do not match the content.",
        "Strong artificial colour casts saturate the image.",
    ),
    ("edge_sharpness", "low"): (
        "Edges are soft and smeared, with no crisp boundaries between regions.",
        "Object boundaries are blurred and ill-defined, gradients stay weak everywhere.",
        "Nothing in the image has a sharp edge; contours melt into one another.",
    ),
    ("edge_sharpness", "high"): (
        "Edges are harsh and jagged, with abrupt intensity jumps that look unnatural.",
        "Contours are over-sharpened with steep, ringing transitions.",
        "Boundaries are unnaturally crisp and aliased, harsher than optics allow.",
    ),
}

MILD_FAKE_PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("hf_energy", "low"): ("Fine detail is somewhat weaker than in most real photographs.",),
    ("hf_energy", "high"): (
        "There is slightly more high-frequency grain than real photographs usually show.",
    ),
    ("spectral_peak", "high"): ("Faint periodic peaks can be found in the spectrum.",),
    ("grid_ratio", "high"): ("A weak two-pixel periodicity can be measured between neighbouring pixels.",),
    ("noise_level", "low"): ("The noise floor is lower than a camera usually leaves.",),
    ("noise_level", "high"): ("The noise is somewhat stronger than typical camera noise.",),
    ("noise_kurtosis", "low"): ("The residual noise is more uniform than in most photographs.",),
    ("noise_kurtosis", "high"): ("The residual is patchier than in most photographs.",),
    ("channel_coherence", "low"): ("The colour channels share less fine detail than in camera images.",),
    ("saturation", "low"): ("Colours are a little duller than the content suggests.",),
    ("saturation", "high"): ("Colours are a little more saturated than natural.",),
    ("edge_sharpness", "low"): ("Edges are softer than in most real photographs.",),
    ("edge_sharpness", "high"): ("Edges are slightly harsher than in most real photographs.",),
}

REAL_PHRASES: dict[str, tuple[str, ...]] = {
    "hf_energy": (
        "Fine detail falls off naturally with frequency, as in a camera photograph.",
        "The balance of coarse and fine detail matches that of real photographs.",
        "Its high-frequency content is at the level expected from a real lens and sensor.",
    ),
    "spectral_peak": (
        "The frequency spectrum is smooth, with no periodic peaks from upsampling.",
        "No grid-like spikes appear in the Fourier spectrum.",
        "There is no trace of a periodic upsampling pattern in the spectrum.",
    ),
    "grid_ratio": (
        "Neighbouring pixels vary evenly, with no 2x2 block or checkerboard pattern.",
        "Pixel differences show no two-pixel periodicity.",
        "There is no checkerboard structure between adjacent pixels.",
    ),
    "noise_level": (
        "A faint, natural sensor-noise floor is present.",
        "The noise level is what a camera leaves after normal processing.",
        "Flat areas keep a light, even photographic grain.",
    ),
    "noise_kurtosis": (
        "The residual detail follows real edges and textures, as in a photograph.",
        "High-frequency residue concentrates along object boundaries, as optics produce.",
        "The noise residual is tied to genuine structure in the scene.",
    ),
    "channel_coherence": (
        "The colour channels agree at the pixel level, as camera demosaicking produces.",
        "Fine detail is coherent across the red, green and blue channels.",
        "There is no chromatic speckle; colour channels move together.",
    ),
    "saturation": (
        "Colours are natural and consistent with the lighting.",
        "The colour palette is plausible for the content.",
        "Saturation is in the normal range of real photographs.",
    ),
    "edge_sharpness": (
        "Edges are crisp where the content has boundaries, with physically plausible transitions.",
        "Contours have natural sharpness and smooth optical falloff.",
        "Object boundaries are well defined without ringing or jaggies.",
    ),
}

GREYSCALE_PHRASES = (
    "It is a true greyscale photograph: the red, green and blue channels are identical.",
    "The image is monochrome, with exactly equal colour channels, as a greyscale camera or conversion gives.",
    "All three colour channels are identical, a clean greyscale photograph with no colour noise.",
)
COLOUR_PROPERTIES = ("saturation", "channel_coherence")
"""Measured over the colour crops only: a greyscale photo has saturation 0 and coherence 1 by definition."""

FAKE_OPENERS = (
    "It imitates {subject}, but {lower}",
    "Although it resembles {subject}, {lower}",
    "The content suggests {subject}; however, {lower}",
    "",
)
REAL_OPENERS = (
    "It shows {subject} with consistent photographic properties.",
    "The crop shows {subject}.",
    "It depicts {subject}.",
    "",
)
FAKE_CLOSERS = (
    "These traces point to a generated image.",
    "Together these artifacts reveal that the image was synthesized.",
    "Such statistics are characteristic of an image generator, not a camera.",
    "",
)
REAL_CLOSERS = (
    "Nothing here suggests synthesis.",
    "These properties are consistent with a real photograph.",
    "No generation artifacts are present.",
    "",
)

ALLOWED_FAKE_DIRECTIONS: dict[str, tuple[str, ...]] = {
    "spectral_peak": ("high",),
    "grid_ratio": ("high",),
    "channel_coherence": ("low",),
}


@dataclass(frozen=True)
class Band:
    """Percentiles (5, 25, 50, 75, 95) of one property over the real training crops."""

    p5: float
    p25: float
    p50: float
    p75: float
    p95: float

    def deviation(self, value: float) -> tuple[float, str]:
        """(distance from the median in units of the median-to-band-edge distance, direction)."""
        if value >= self.p50:
            scale = max(self.p95 - self.p50, 1e-9)
            return (value - self.p50) / scale, "high"
        scale = max(self.p50 - self.p5, 1e-9)
        return (self.p50 - value) / scale, "low"


def is_greyscale(props: Mapping[str, float]) -> bool:
    """Saturation exactly 0: every pixel has equal red, green and blue values."""
    return props["saturation"] == 0.0


def real_statistics(properties: Sequence[Mapping[str, float]]) -> dict[str, Band]:
    """Percentile bands of every property over real crops (colour properties over colour crops only)."""
    stats: dict[str, Band] = {}
    colour = [p for p in properties if not is_greyscale(p)] or list(properties)
    for name in PROPERTIES:
        pool = colour if name in COLOUR_PROPERTIES else properties
        values = np.array([p[name] for p in pool], dtype=np.float64)
        q = [float(f"{v:.4g}") for v in np.percentile(values, PERCENTILES)]
        stats[name] = Band(*q)
    return stats


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if text else text


def _join(opener: str, sentences: list[str], closer: str, subject: str) -> str:
    if opener and "{lower}" in opener:
        first = opener.format(subject=subject, lower=_lower_first(sentences[0]))
        parts = [first, *sentences[1:]]
    elif opener:
        parts = [opener.format(subject=subject), *sentences]
    else:
        parts = list(sentences)
    if closer:
        parts.append(closer)
    return " ".join(parts)


def fake_clue(
    props: Mapping[str, float], stats: Mapping[str, Band], category: str, rng: np.random.Generator
) -> tuple[str, list[str]]:
    """``"This is a fake image. ..."`` naming the most atypical properties; returns (text, evidence keys)."""
    scored = []
    names = [n for n in PROPERTIES if not (is_greyscale(props) and n in COLOUR_PROPERTIES)]
    for name in names:
        dev, direction = stats[name].deviation(props[name])
        if direction in ALLOWED_FAKE_DIRECTIONS.get(name, ("low", "high")):
            scored.append((dev, name, direction))
    scored.sort(key=lambda item: (-item[0], item[1]))
    strong = [(n, d) for dev, n, d in scored if dev > 1.0]
    mild = [(n, d) for dev, n, d in scored if 0.5 < dev <= 1.0]
    n_strong = min(len(strong), int(rng.integers(2, 4)))
    chosen = strong[:n_strong]
    sentences = [str(rng.choice(FAKE_PHRASES[key])) for key in chosen]
    if len(chosen) < 2:
        extra = mild[: 2 - len(chosen)]
        chosen += extra
        sentences += [MILD_FAKE_PHRASES[key][0] for key in extra]
    if not sentences:
        chosen = [("overall", "atypical")]
        sentences = ["Its statistics as a whole sit at the edge of what real photographs show."]
    subject = str(rng.choice(SUBJECTS[category]))
    opener, closer = str(rng.choice(FAKE_OPENERS)), str(rng.choice(FAKE_CLOSERS))
    text = "This is a fake image. " + _join(opener, sentences, closer, subject)
    return text, [f"{name}:{direction}" for name, direction in chosen]


def real_clue(
    props: Mapping[str, float], stats: Mapping[str, Band], category: str, rng: np.random.Generator
) -> tuple[str, list[str]]:
    """``"This is a real image. ..."`` naming properties inside the real band; returns (text, evidence)."""
    grey = is_greyscale(props)
    names = [n for n in PROPERTIES if not (grey and n in COLOUR_PROPERTIES)]
    inside = [name for name in names if stats[name].deviation(props[name])[0] <= 1.0]
    if not inside:
        inside = sorted(names, key=lambda n: stats[n].deviation(props[n])[0])[:2]
    if grey:
        inside.append("greyscale")
    count = min(len(inside), int(rng.integers(2, 4)))
    picked = sorted(rng.choice(len(inside), size=count, replace=False).tolist())
    chosen = [inside[i] for i in picked]
    phrases = {**REAL_PHRASES, "greyscale": GREYSCALE_PHRASES}
    sentences = [str(rng.choice(phrases[name])) for name in chosen]
    subject = str(rng.choice(SUBJECTS[category]))
    opener, closer = str(rng.choice(REAL_OPENERS)), str(rng.choice(REAL_CLOSERS))
    text = "This is a real image. " + _join(opener, sentences, closer, subject)
    return text, [name if name == "greyscale" else f"{name}:typical" for name in chosen]
