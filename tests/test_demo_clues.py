"""Clues are written from measured properties against the real crops' percentile bands."""

from __future__ import annotations

import numpy as np
import pytest

from spotfake.tasks.demo import clues
from spotfake.tasks.demo.measure import PROPERTIES


@pytest.fixture()
def stats() -> dict[str, clues.Band]:
    """Bands from 101 synthetic 'real' measurements: every property runs 0..100 (median 50, p5 5, p95 95)."""
    reals = [{name: float(i) for name in PROPERTIES} for i in range(101)]
    return clues.real_statistics(reals)


def typical(**overrides: float) -> dict[str, float]:
    props = {name: 50.0 for name in PROPERTIES}
    props.update(overrides)
    return props


def test_statistics_are_the_real_percentiles(stats: dict[str, clues.Band]) -> None:
    band = stats["hf_energy"]
    assert (band.p5, band.p25, band.p50, band.p75, band.p95) == (5.0, 25.0, 50.0, 75.0, 95.0)
    assert band.deviation(140.0) == (pytest.approx(2.0), "high")
    assert band.deviation(5.0) == (pytest.approx(1.0), "low")


def test_fake_clue_names_the_most_atypical_properties(stats: dict[str, clues.Band]) -> None:
    props = typical(hf_energy=-40.0, spectral_peak=300.0, saturation=60.0)
    text, evidence = clues.fake_clue(props, stats, "animal", np.random.default_rng(0))
    assert text.startswith("This is a fake image. ")
    assert evidence[:2] == ["spectral_peak:high", "hf_energy:low"]
    phrases = clues.FAKE_PHRASES[("spectral_peak", "high")] + clues.FAKE_PHRASES[("hf_energy", "low")]
    assert sum(p[1:] in text for p in phrases) == 2
    assert not any(p[1:] in text for p in clues.FAKE_PHRASES[("saturation", "high")])


def test_meaningless_directions_are_not_used_as_fake_evidence(stats: dict[str, clues.Band]) -> None:
    props = typical(spectral_peak=-500.0, channel_coherence=500.0, noise_level=-60.0)
    _, evidence = clues.fake_clue(props, stats, "object", np.random.default_rng(1))
    assert evidence[0] == "noise_level:low"
    assert "spectral_peak:low" not in evidence and "channel_coherence:high" not in evidence


def test_fake_without_strong_evidence_still_gets_an_explanation(stats: dict[str, clues.Band]) -> None:
    text, evidence = clues.fake_clue(typical(edge_sharpness=20.0), stats, "scene", np.random.default_rng(2))
    assert evidence == ["edge_sharpness:low"]
    assert clues.MILD_FAKE_PHRASES[("edge_sharpness", "low")][0][1:] in text
    text, evidence = clues.fake_clue(typical(), stats, "scene", np.random.default_rng(2))
    assert text.startswith("This is a fake image. ") and len(text.split()) > 10


def test_real_clue_only_names_properties_inside_the_band(stats: dict[str, clues.Band]) -> None:
    props = typical(hf_energy=-100.0, grid_ratio=400.0)
    for seed in range(30):
        text, evidence = clues.real_clue(props, stats, "human", np.random.default_rng(seed))
        assert text.startswith("This is a real image. ")
        assert 2 <= len(evidence) <= 3
        assert "hf_energy:typical" not in evidence and "grid_ratio:typical" not in evidence
        assert not any(p[1:] in text for phrases in clues.FAKE_PHRASES.values() for p in phrases)


def test_wording_varies_with_the_seed_and_repeats_with_it(stats: dict[str, clues.Band]) -> None:
    props = typical(hf_energy=-40.0, noise_level=-30.0, edge_sharpness=-20.0)
    texts = {clues.fake_clue(props, stats, "texture", np.random.default_rng(s))[0] for s in range(20)}
    assert len(texts) >= 10
    again = clues.fake_clue(props, stats, "texture", np.random.default_rng(7))[0]
    assert again == clues.fake_clue(props, stats, "texture", np.random.default_rng(7))[0]


def test_every_category_has_subjects() -> None:
    from spotfake.tasks.demo.sources import SOURCES

    assert {s.category for s in SOURCES} <= set(clues.SUBJECTS)


def test_greyscale_photos_get_greyscale_wording_and_colour_bands_ignore_them() -> None:
    colour = [{**{name: float(i) for name in PROPERTIES}, "saturation": 0.2 + i / 200} for i in range(101)]
    grey = [{**{name: 10.0 for name in PROPERTIES}, "saturation": 0.0, "channel_coherence": 1.0}] * 50
    stats = clues.real_statistics(colour + grey)
    assert stats["saturation"].p5 > 0.2 and stats["channel_coherence"].p95 == 95.0
    assert stats["hf_energy"].p50 < 50.0
    props = typical(saturation=0.0, channel_coherence=1.0)
    seen: set[str] = set()
    for seed in range(40):
        text, evidence = clues.real_clue(props, stats, "texture", np.random.default_rng(seed))
        seen.update(evidence)
        assert not any(
            p in text for p in clues.REAL_PHRASES["saturation"] + clues.REAL_PHRASES["channel_coherence"]
        )
    assert "greyscale" in seen and not {"saturation:typical", "channel_coherence:typical"} & seen
    _, evidence = clues.fake_clue(props, stats, "texture", np.random.default_rng(0))
    assert not any(e.startswith(("saturation", "channel_coherence")) for e in evidence)
