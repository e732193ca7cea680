"""A toy task reader for the engine's own tests: samples made from arguments, images optional."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskData, TaskSpec
from spotfake.harness.types import Sample

CATEGORIES = ("animal", "object", "scene")


def read_toy(spec: TaskSpec, data_root: Path | None, args: dict[str, Any]) -> TaskData:
    """``n`` samples; every ``fake_every``-th one is real; references on every sample.

    With a data root, each sample points at ``<root>/img_<i>.png`` (the test decides which exist).
    """
    n = int(args.get("n", 20))
    if n < 0:
        raise SpotfakeError(f"toy task: n must be >= 0, got {n}")
    real_every = int(args.get("real_every", 3))
    samples = []
    for i in range(n):
        label = "real" if i % real_every == 0 else "fake"
        ref = f"This is a {label} image. Sample {i} shows {'smooth skin' if label == 'fake' else 'natural grain'}."
        samples.append(
            Sample(
                id=f"s{i:05d}",
                label=label,  # type: ignore[arg-type]
                prompt="Does the image look real or fake?" + " detail" * (i % 4),
                images=(data_root / f"img_{i}.png",) if data_root is not None else (),
                references=(ref,),
                category=CATEGORIES[i % len(CATEGORIES)],
                metadata={"generator": "none" if label == "real" else ("gan" if i % 2 else "vae")},
            )
        )
    return TaskData(samples=samples, files=[])
