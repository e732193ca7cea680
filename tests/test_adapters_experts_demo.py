"""The embedded demo experts: committed weights that are small, safe to load, and answer with p(fake)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open

from adapters.demo_models import LINEAR_PROBE_WEIGHTS, NPR_DEMO_WEIGHTS
from adapters.experts.checkpoints import read_config
from harness.model import Item, build_model
from harness.types import Sample


def _items(n: int = 4) -> list[Item]:
    rng = np.random.default_rng(0)
    items = []
    for i in range(n):
        image = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
        items.append(Item(Sample(id=f"x{i}", label=None, prompt="?", images=(Path(f"{i}.png"),)), [image]))
    return items


@pytest.mark.parametrize(
    ("path", "arch"), [(LINEAR_PROBE_WEIGHTS, "linear-probe"), (NPR_DEMO_WEIGHTS, "npr")]
)
def test_committed_weights_are_small_safetensors_with_their_config(path: Path, arch: str) -> None:
    assert path.is_file(), f"{path} is missing: train it as docs/experts.md says"
    assert path.stat().st_size < 1_000_000
    with safe_open(str(path), framework="pt") as handle:
        config = read_config(path, handle.metadata())
    assert config is not None and config["arch"] == arch


def test_npr_demo_loads_its_committed_weights_by_default() -> None:
    model = build_model("npr-demo", {"device": "cpu"})
    responses = model.predict(_items())
    assert all(r.error is None and 0.0 <= r.score <= 1.0 and r.text for r in responses)
    assert model.settings()["resize"] is None
    assert model.weights_hash()


@pytest.mark.slow
def test_linear_probe_loads_its_committed_head_by_default() -> None:
    model = build_model("linear-probe", {"device": "cpu"})
    assert model.config["C"] is not None
    responses = model.predict(_items(2))
    assert all(r.error is None and 0.0 <= r.score <= 1.0 for r in responses)
