"""Engine overhead per sample: a constant model over many synthetic samples, end to end.

    .venv/bin/python benchmarks/bench_engine.py [--n 50000] [--batch-size 8]

Measures the prediction loop (batching, verdict parsing, record writing) and the whole run including
scoring (metrics and 1,000 bootstrap resamples), and writes benchmarks/results/engine.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spotfake.harness.model import Item, Model
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import LoadedTask, TaskSpec
from spotfake.harness.types import Response, Sample


class Constant(Model):
    """Answers the same sentence for every sample (or, with ``unique``, a different sentence for every
    sample, so that no answer is parsed twice), without reading images."""

    name = "constant"
    kind = "baseline"
    needs_images = False

    def __init__(self, unique: bool = False) -> None:
        self.unique = unique

    def predict(self, items: Sequence[Item]) -> list[Response]:
        if self.unique:
            return [Response(text=f"This is a fake image. Patch {i.sample.id} is too smooth.") for i in items]
        return [Response(text="This is a fake image. The skin is too smooth.") for _ in items]


def synthetic_task(n: int) -> LoadedTask:
    spec = TaskSpec(
        name="synthetic",
        version="1",
        description="engine benchmark",
        reader="-",
        metrics=("acc", "f1", "f1_fake", "f1_macro", "balanced_acc"),
        breakdowns=("generator",),
    )
    samples = [
        Sample(
            id=f"img/{i:07d}.png",
            label="fake" if i % 3 else "real",
            prompt="Does the image looks real/fake?",
            category=("animal", "human", "object", "scene")[i % 4],
            metadata={"generator": ("gan", "vae", "diffusion")[i % 3]},
        )
        for i in range(n)
    ]
    return LoadedTask(spec, samples, "synthetic", None, {})


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8, 64])
    args = parser.parse_args(argv)
    task = synthetic_task(args.n)
    figures: dict[str, Any] = {"n": args.n, "runs": []}
    for batch_size, unique in [(b, u) for u in (False, True) for b in args.batch_size]:
        with tempfile.TemporaryDirectory() as tmp:
            options = RunOptions(
                output_dir=Path(tmp),
                batch_size=batch_size,
                progress=False,
                scoring=ScoringOptions(n_bootstrap=1000),
            )
            started = time.perf_counter()
            outcome = run(Constant(unique), {}, task, options)
            total = time.perf_counter() - started
        assert outcome.results is not None
        loop_s = outcome.results["timing"]["wall_s"]
        row = {
            "answers": "all different" if unique else "identical",
            "batch_size": batch_size,
            "loop_s": loop_s,
            "loop_samples_per_s": round(args.n / loop_s, 1),
            "loop_us_per_sample": round(1e6 * loop_s / args.n, 2),
            "total_s": round(total, 3),
            "total_samples_per_s": round(args.n / total, 1),
        }
        figures["runs"].append(row)
        print(json.dumps(row), file=sys.stderr)
    out = Path(__file__).parent / "results" / "engine.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
