"""Perturbation specs (parsing, bad input, slugs, keys) and the pure image transforms."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.perturb import (
    Perturbation,
    Step,
    parse_perturbation,
    parse_sweep,
    perturbation_slug,
)
from spotfake.harness.run_identity import RunIdentity, TaskIdentity

TASK = TaskIdentity(name="demo", version="1", data_fingerprint="d", defaults={})


def run(perturbation: Perturbation | None, fingerprint: str = "k") -> RunIdentity:
    return RunIdentity("m", TASK, perturbation=perturbation, fingerprint=fingerprint)


def textured(w: int = 64, h: int = 48, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w)[None, :, None] * np.ones((h, 1, 3))
    arr = np.clip(base + rng.normal(0, 20, (h, w, 1)), 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.int16)


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = float(np.mean((pixels(a) - pixels(b)).astype(np.float64) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize(
    ("spec", "canonical", "slug"),
    [
        ("jpeg:75", "jpeg:75", "jpeg75"),
        ("JPEG:75.0", "jpeg:75", "jpeg75"),
        ("blur:1.0", "blur:1", "blur1"),
        ("blur:0.5", "blur:0.5", "blur0.5"),
        ("resize:0.5+jpeg:75", "resize:0.5+jpeg:75", "resize0.5+jpeg75"),
        ("social", "social", "social"),
        (" noise:5 + crop:224 ", "noise:5+crop:224", "noise5+crop224"),
        ("webp:80", "webp:80", "webp80"),
    ],
)
def test_specs_have_one_canonical_text_and_slug(spec: str, canonical: str, slug: str) -> None:
    p = parse_perturbation(spec)
    assert p is not None
    assert p.spec == canonical
    assert perturbation_slug(p) == slug
    assert perturbation_slug(spec) == slug
    assert parse_perturbation(canonical) == p


@pytest.mark.parametrize("spec", [None, "", "  ", "none"])
def test_no_perturbation(spec: str | None) -> None:
    assert parse_perturbation(spec) is None
    assert perturbation_slug(spec) == ""
    assert run(None).task_folder == "demo"
    assert run(None).key == RunIdentity("m", TASK, fingerprint="k").key


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("jpeg:0", "out of range"),
        ("jpeg:101", "out of range"),
        ("blur:-1", "out of range"),
        ("blur:0", "out of range"),
        ("noise:-5", "out of range"),
        ("resize:0", "out of range"),
        ("resize:9", "out of range"),
        ("crop:0", "out of range"),
        ("jpeg:75.5", "whole number"),
        ("jpeg:abc", "needs a number"),
        ("blur:nan", "finite"),
        ("jpeg", "needs a strength"),
        ("social:3", "takes no strength"),
        ("jpg:75", "did you mean 'jpeg'"),
        ("sharpen:2", "unknown perturbation 'sharpen'"),
        ("jpeg:75+", "empty step"),
        ("jpeg:95,75", "spotfake robustness"),
    ],
)
def test_bad_specs_are_one_line_naming_the_valid_ones(spec: str, says: str) -> None:
    with pytest.raises(SpotfakeError) as err:
        parse_perturbation(spec)
    message = str(err.value)
    assert says in message
    assert "\n" not in message
    assert repr(spec) in message
    for name in ("jpeg:QUALITY", "blur:SIGMA", "resize:FACTOR", "crop:SIZE", "noise:SIGMA", "webp", "social"):
        assert name in message


def test_sweeps_expand_one_axis() -> None:
    assert [p.spec for p in parse_sweep("jpeg:95,85,75")] == ["jpeg:95", "jpeg:85", "jpeg:75"]
    assert [p.spec for p in parse_sweep("blur:0.5, 1 ,2")] == ["blur:0.5", "blur:1", "blur:2"]
    assert [p.spec for p in parse_sweep("resize:0.5+jpeg:75")] == ["resize:0.5+jpeg:75"]
    for bad in ("jpeg:95,,75", "jpeg:95,0", "resize:0.5+jpeg:75,60", "jpg:95,85"):
        with pytest.raises(SpotfakeError):
            parse_sweep(bad)


def test_keys_and_folders_tell_perturbations_apart() -> None:
    a, b = parse_perturbation("jpeg:75"), parse_perturbation("jpeg:50")
    assert run(a).task_folder == "demo@jpeg75"
    keys = {run(None).key, run(a).key, run(b).key, run(a, "j").key}
    assert len(keys) == 4
    assert run(a).key == run(parse_perturbation("jpeg:75.0")).key
    assert a is not None and a.describe() == {
        "spec": "jpeg:75",
        "slug": "jpeg75",
        "steps": [{"name": "jpeg", "value": 75.0}],
    }


def test_jpeg_equals_a_pillow_round_trip_and_loses_more_at_lower_quality() -> None:
    img = textured()
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=60)
    expected = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    out = Perturbation((Step("jpeg", 60),)).apply("s1", img)
    assert np.array_equal(pixels(out), pixels(expected))
    q95 = psnr(img, Perturbation((Step("jpeg", 95),)).apply("s1", img))
    q20 = psnr(img, Perturbation((Step("jpeg", 20),)).apply("s1", img))
    assert q95 > q20 + 3


def test_webp_is_lossy_and_deterministic() -> None:
    img = textured()
    p = parse_perturbation("webp:50")
    assert p is not None
    a, b = p.apply("x", img), p.apply("x", img)
    assert np.array_equal(pixels(a), pixels(b))
    assert psnr(img, a) < 60


def test_blur_keeps_flat_images_and_adds_sigma_squared_to_the_spread() -> None:
    flat = Image.new("RGB", (20, 20), (90, 120, 200))
    p = parse_perturbation("blur:2")
    assert p is not None
    assert np.array_equal(pixels(p.apply("s", flat)), pixels(flat))
    impulse = np.zeros((61, 61, 3), np.uint8)
    impulse[28:33, 28:33] = 255  # a 5x5 block: variance (25 - 1) / 12 = 2 along x before blurring
    out = np.asarray(p.apply("s", Image.fromarray(impulse)), dtype=np.float64)[:, :, 0]
    ys, xs = np.mgrid[0:61, 0:61]
    total = out.sum()
    assert total == pytest.approx(25 * 255, rel=0.02)
    var_x = float(((xs - 30) ** 2 * out).sum() / total)
    assert var_x == pytest.approx(2.0 + 2.0**2, rel=0.05)


def test_resize_and_crop_sizes_and_centre() -> None:
    img = textured(64, 48)
    half = parse_perturbation("resize:0.5")
    assert half is not None and half.apply("s", img).size == (32, 24)
    crop = parse_perturbation("crop:32")
    assert crop is not None
    out = crop.apply("s", img)
    assert out.size == (32, 32)
    assert np.array_equal(pixels(out), pixels(img)[8:40, 16:48])
    bigger = parse_perturbation("crop:56")
    assert bigger is not None and bigger.apply("s", img).size == (56, 48)


def test_noise_is_seeded_by_sample_id_with_the_asked_sigma() -> None:
    flat = Image.new("RGB", (128, 128), (128, 128, 128))
    p = parse_perturbation("noise:5")
    assert p is not None
    a, again, other = p.apply("id-1", flat), p.apply("id-1", flat), p.apply("id-2", flat)
    assert np.array_equal(pixels(a), pixels(again))
    assert not np.array_equal(pixels(a), pixels(other))
    residual = pixels(a).astype(np.float64) - 128
    assert residual.std() == pytest.approx(5.0, rel=0.05)
    assert abs(residual.mean()) < 0.2
    two = p.apply_all("id-1", [flat, flat])
    assert not np.array_equal(pixels(two[0]), pixels(two[1]))


def test_social_downscales_only_large_images_then_recompresses() -> None:
    p = parse_perturbation("social")
    assert p is not None
    assert p.apply("s", textured(2160, 1000)).size == (1080, 500)
    small = textured(64, 48)
    out = p.apply("s", small)
    assert out.size == (64, 48)
    assert not np.array_equal(pixels(out), pixels(small))


def test_chains_apply_left_to_right() -> None:
    img = textured(64, 48)
    chain = parse_perturbation("resize:0.5+crop:16")
    assert chain is not None and chain.apply("s", img).size == (16, 16)
    reverse = parse_perturbation("crop:16+resize:0.5")
    assert reverse is not None and reverse.apply("s", img).size == (8, 8)


def test_close_strengths_keep_distinct_specs_slugs_and_keys() -> None:
    a, b = parse_perturbation("blur:0.1234567"), parse_perturbation("blur:0.1234568")
    assert a is not None and b is not None
    assert a.spec == "blur:0.1234567" and b.spec == "blur:0.1234568"
    assert perturbation_slug(a) != perturbation_slug(b)
    assert run(a).key != run(b).key
    assert parse_perturbation(a.spec) == a  # the canonical text parses back to the same strength
