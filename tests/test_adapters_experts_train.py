"""``spotfake train classifier``: a few steps on a tiny image folder lower the loss, are reproducible
from the seed, and save weights that the adapters load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open

from spotfake.adapters.experts.train import TrainOptions, train_classifier
from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import build_model
from spotfake.harness.task import load_task

SIZE = 32


def make_folder(root: Path, n: int = 12, seed: int = 0) -> Path:
    """Real: smooth fields plus per-pixel noise. Fake: 2x nearest-neighbour up-sampled noise, the
    artifact NPR targets (every 2x2 block is one colour)."""
    rng = np.random.default_rng(seed)
    for label in ("0_real", "1_fake"):
        (root / label).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        base = rng.integers(0, 256, (SIZE // 4, SIZE // 4, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(base).resize((SIZE, SIZE), Image.BILINEAR), dtype=np.float64)
        real = np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8)
        Image.fromarray(real).save(root / "0_real" / f"{i:02d}.png")
        low = rng.integers(0, 256, (SIZE // 2, SIZE // 2, 3), dtype=np.uint8)
        Image.fromarray(low).resize((SIZE, SIZE), Image.NEAREST).save(root / "1_fake" / f"{i:02d}.png")
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "data")


def _samples(folder: Path, tmp_path: Path):
    return load_task("imagefolder", folder, {"cache_dir": str(tmp_path / "cache")}).samples


def _mean_scores(model, samples) -> tuple[float, float]:
    images = [s.load_images()[0] for s in samples]
    scores = model.scores(images)
    fake = [p for p, s in zip(scores, samples, strict=True) if s.label == "fake"]
    real = [p for p, s in zip(scores, samples, strict=True) if s.label == "real"]
    return float(np.mean(fake)), float(np.mean(real))


def test_cli_trains_npr_demo_and_the_adapter_loads_it(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "train",
            "classifier",
            "--arch",
            "npr-demo",
            "--task",
            "imagefolder",
            "--data-root",
            str(folder),
            "--task-args",
            f"cache_dir={tmp_path / 'cache'}",
            "--output",
            str(out),
            "--epochs",
            "6",
            "--batch-size",
            "8",
            "--seed",
            "0",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["samples"] == 24 and summary["real"] == 12 and summary["fake"] == 12
    record = json.loads((out / "config.json").read_text())
    losses = record["training"]["epoch_losses"]
    assert len(losses) == 6 and losses[-1] < 0.5 * losses[0]
    assert record["model"]["arch"] == "npr" and record["training"]["data"]["task"] == "imagefolder"
    assert record["training"]["data"]["data_fingerprint"]

    for name in ("npr", "npr-demo"):
        model = build_model(name, {"path": str(out), "device": "cpu"})
        assert model.config["width"] == 16 and model.config["resize"] is None
        fake, real = _mean_scores(model, _samples(folder, tmp_path))
        assert fake > real


def test_training_is_reproducible_from_the_seed(folder: Path, tmp_path: Path) -> None:
    samples = _samples(folder, tmp_path)
    tensors = []
    for run in ("a", "b"):
        options = TrainOptions(arch="npr-demo", epochs=2, batch_size=8, seed=7, device="cpu")
        report = train_classifier(samples, tmp_path / run, options, log=lambda _: None)
        with safe_open(str(report.weights), framework="pt") as handle:
            tensors.append({k: handle.get_tensor(k) for k in handle.keys()})  # noqa: SIM118
    assert tensors[0].keys() == tensors[1].keys()
    assert all(torch.equal(tensors[0][k], tensors[1][k]) for k in tensors[0])


@pytest.mark.slow
def test_tiny_cnnspot_trains_with_augmentation_and_loads(folder: Path, tmp_path: Path) -> None:
    options = TrainOptions(
        arch="cnnspot",
        epochs=4,
        batch_size=8,
        lr=1e-3,
        load_size=0,
        crop_size=28,
        blur_prob=0.2,
        jpeg_prob=0.2,
        device="cpu",
        config={"layers": [1, 1, 1, 1]},
    )
    report = train_classifier(
        _samples(folder, tmp_path), tmp_path / "cnn.safetensors", options, log=lambda _: None
    )
    assert report.epoch_losses[-1] < report.epoch_losses[0]
    assert (tmp_path / "cnn.json").is_file()
    model = build_model("cnnspot", {"path": str(report.weights), "device": "cpu"})
    assert model.config["layers"] == [1, 1, 1, 1]
    assert len(model.scores([Image.new("RGB", (SIZE, SIZE))])) == 1


@pytest.mark.slow
def test_univfd_trains_only_its_head_on_a_frozen_clip(folder: Path, tmp_path: Path) -> None:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    clip = tmp_path / "clip"
    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=SIZE,
        patch_size=8,
        projection_dim=16,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(clip)
    before = (clip / "model.safetensors").read_bytes()
    options = TrainOptions(arch="univfd", epochs=3, batch_size=8, lr=1e-2, clip_path=str(clip), device="cpu")
    report = train_classifier(_samples(folder, tmp_path), tmp_path / "head", options, log=lambda _: None)
    with safe_open(str(report.weights), framework="pt") as handle:
        assert sorted(handle.keys()) == ["fc.bias", "fc.weight"]
    assert (clip / "model.safetensors").read_bytes() == before
    assert len(report.epoch_losses) == 3 and all(np.isfinite(report.epoch_losses))
    model = build_model("univfd", {"path": str(tmp_path / "head"), "clip_path": str(clip), "device": "cpu"})
    assert model.config["feature_dim"] == 16
    assert 0.0 <= model.scores([Image.new("RGB", (SIZE, SIZE))])[0] <= 1.0


@pytest.mark.slow
def test_linear_probe_fits_on_cached_features_and_loads(folder: Path, tmp_path: Path) -> None:
    samples = _samples(folder, tmp_path)
    cache = tmp_path / "features"
    options = TrainOptions(arch="linear-probe", device="cpu", cache_dir=cache, probe_c=(0.1, 1.0))
    first = train_classifier(samples, tmp_path / "probe.safetensors", options, provenance={"task": "tiny"})
    assert first.extra["features_from_cache"] == 0
    assert list(cache.glob("tiny-*.npz"))
    again = train_classifier(samples, tmp_path / "probe2.safetensors", options, provenance={"task": "tiny"})
    assert again.extra["features_from_cache"] == len(samples)
    heads = []
    for path in (first.weights, again.weights):
        with safe_open(str(path), framework="pt") as handle:
            heads.append({k: handle.get_tensor(k) for k in handle.keys()})  # noqa: SIM118
    assert all(torch.equal(heads[0][k], heads[1][k]) for k in ("mean", "scale", "coef", "intercept"))

    model = build_model("linear-probe", {"path": str(first.weights), "device": "cpu"})
    assert model.config["C"] in (0.1, 1.0)
    fake, real = _mean_scores(model, samples)
    assert fake > real


def test_training_needs_both_classes(folder: Path, tmp_path: Path) -> None:
    only_real = [s for s in _samples(folder, tmp_path) if s.label == "real"]
    with pytest.raises(SpotfakeError, match="all real"):
        train_classifier(only_real, tmp_path / "x", TrainOptions(arch="npr-demo", epochs=1, device="cpu"))


def test_mixed_image_sizes_without_a_crop_are_a_clear_error(folder: Path, tmp_path: Path) -> None:
    Image.new("RGB", (40, 30)).save(folder / "0_real" / "odd.png")
    with pytest.raises(SpotfakeError, match="differ in size.*--crop-size"):
        train_classifier(
            _samples(folder, tmp_path), tmp_path / "x", TrainOptions(arch="npr-demo", epochs=1, device="cpu")
        )
