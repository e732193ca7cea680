"""The experts at their real architecture size: a random checkpoint in each authors' layout at real shapes
(CLIP/DINOv2 ViT-L/14, Effort's r = 1023 SVD factors, DINOv2's 37 x 37 position grid, open_clip ViT-L/14)
loads strictly and answers one image at its real input size.

Each builds gigabytes of weights, so these run only with ``SPOTFAKE_REAL_SIZE=1`` (several minutes on
two cores); the scaled-down tests in ``test_adapters_experts_{grip,clip,dda}.py`` cover the same code
paths in every run.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.model import Item, build_model
from spotfake.harness.types import Sample

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SPOTFAKE_REAL_SIZE") != "1", reason="set SPOTFAKE_REAL_SIZE=1 (builds GBs)"
    ),
]


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_experts.py"
    spec = importlib.util.spec_from_file_location("bench_experts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(_bench().EXPERTS))
def test_a_real_size_checkpoint_in_the_authors_layout_loads_strictly_and_answers(
    name: str, tmp_path: Path
) -> None:
    builder, side = _bench().EXPERTS[name]
    args = builder(tmp_path)
    model = build_model(name, {**args, "device": "cpu"})
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8))
    (response,) = model.predict([Item(Sample(id="b0", label="fake", prompt="real or fake?"), [image])])
    assert response.error is None and response.score is not None and 0.0 <= response.score <= 1.0
    assert all(len(digest) == 64 for digest in model.settings()["sha256"].values())
