"""The committed demo FakeVLM: small, safe to load, registered as ``fakevlm-demo``, and it answers like FakeVLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spotfake.adapters.fakevlm.demo import DEMO_WEIGHTS, FakeVLMDemo
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, build_model
from spotfake.harness.registry import MODELS
from spotfake.harness.task import load_task
from spotfake.harness.verdict import parse_verdict


def test_demo_folder_is_small_and_pickle_free() -> None:
    files = sorted(p.name for p in DEMO_WEIGHTS.iterdir())
    assert "model.safetensors" in files and "config.json" in files and "tokenizer.json" in files
    assert not any(name.endswith((".bin", ".pt", ".pth", ".pkl")) for name in files)
    assert not (DEMO_WEIGHTS / "checkpoints").exists()
    assert sum(p.stat().st_size for p in DEMO_WEIGHTS.rglob("*") if p.is_file()) <= 15 * 2**20


def test_demo_was_trained_by_the_documented_command() -> None:
    summary = json.loads((DEMO_WEIGHTS / "training_summary.json").read_text())
    assert summary["base"] == "from_scratch:demo"
    assert summary["config"]["split"] == "train"
    assert summary["steps"] == summary["plan"]["total_steps"]
    assert summary["last_loss"] < summary["first_loss"] / 5
    docs = (Path(__file__).resolve().parents[1] / "docs" / "training.md").read_text()
    assert "--from-scratch demo" in docs and f"--epochs {summary['config']['epochs']:g}" in docs


def test_fakevlm_demo_is_registered() -> None:
    assert "fakevlm-demo" in MODELS
    model = build_model("fakevlm-demo", {"max_new_tokens": "96", "batch_size": "8"})
    try:
        assert isinstance(model, FakeVLMDemo) and model.kind == "lmm"
        assert model.settings()["prompt"] == "<image>Does the image looks real/fake?"
        assert model.settings()["model"] == "fakevlm-demo"
    finally:
        model.close()


def test_demo_answers_demo_images_in_fakeclue_form() -> None:
    task = load_task("demo", task_args={"split": "test"})
    by_generator: dict[str, list] = {}
    for sample in task.samples:  # ids are real/<name>.png or fake/<generator>/<name>.png
        parts = sample.id.split("/")
        by_generator.setdefault(parts[1] if parts[0] == "fake" else "real", []).append(sample)
    # Two samples of each generator (held-out one included), deterministic order.
    picked = [s for gen in sorted(by_generator) for s in by_generator[gen][:2]]
    model = FakeVLMDemo(max_new_tokens="128", batch_size="8")
    try:
        responses = model.predict([Item(s, s.load_images()) for s in picked])
    finally:
        model.close()
    assert all(r.error is None for r in responses)
    for sample, response in zip(picked, responses, strict=True):
        assert response.text and response.text.startswith("This is a ")
        assert parse_verdict(response.text) in ("real", "fake"), (sample.id, response.text)
        assert len(response.text.split()) >= 15  # an explanation, not just a verdict


def test_missing_demo_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="fakevlm-demo: no model folder"):
        FakeVLMDemo(path=str(tmp_path))
