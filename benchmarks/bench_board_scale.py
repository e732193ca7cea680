"""Benchmark: the leaderboard with 1,000 result folders (100 models x 10 tasks), synthetic.

Each folder holds a schema-valid ``results.json`` (metrics with bootstrap intervals, per-category values, a
``generator`` breakdown) and a ``samples.jsonl`` of ``--samples`` records, written from a seeded generator
(model skill varies, so ranks, ties and gaps vary). The app is then driven headless by Streamlit's
AppTest in this process, as the server runs it:

- ``first_load_s``: the first page run in a fresh process (every results.json read and validated, the
  first task's table with its tie tests, which read the per-sample records of the runs close to the best);
- ``rerun_s``: the same page again (file cache hit: nothing re-read);
- ``filter_change_s``: median of changing the model-kind filter (three changes);
- ``task_change_s``: median of switching to another task (three switches);
- ``overview_s``: opening the models x tasks overview;
- ``peak_rss_mb``: the process's peak resident memory (the app, its caches and the test harness).

    nice .venv/bin/python benchmarks/bench_board_scale.py [--models 100] [--tasks 10] [--samples 200]

Prints and stores benchmarks/results/board_scale.json. Targets (issue 15): first load <= 5 s, a filter
change <= 0.5 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CATEGORIES = ("animal", "object", "scene", "face")
GENERATORS = ("gan", "diffusion", "vae")
KINDS = ("lmm", "expert", "baseline")


def _ci(rng: np.random.Generator, value: float, n: int) -> list[float]:
    half = 1.96 * float(np.sqrt(max(value * (1 - value), 1e-4) / n))
    return [round(max(0.0, value - half), 6), round(min(1.0, value + half), 6)]


def write_run(root: Path, model: int, task: int, n: int, rng: np.random.Generator) -> None:
    """One synthetic run folder: records drawn from the model's skill, results computed from them."""
    name, task_name = f"model-{model:03d}", f"synth-{task:02d}"
    kind = KINDS[model % 3] if model % 10 == 0 else KINDS[model % 2]
    skill = 0.5 + 0.45 * ((model * 37 + task * 11) % 100) / 100
    labels = rng.random(n) < 0.5
    correct = rng.random(n) < skill
    scores = np.clip(
        np.where(labels == correct, 0.5 + skill / 2, 0.5 - skill / 2) + rng.normal(0, 0.15, n), 0, 1
    )
    rouge = np.clip(rng.normal(0.2 + 0.3 * skill, 0.05, n), 0, 1) if kind == "lmm" else None
    folder = root / name / task_name
    folder.mkdir(parents=True)
    lines = []
    for i in range(n):
        label = "fake" if labels[i] else "real"
        verdict = label if correct[i] else ("real" if labels[i] else "fake")
        record = {
            "id": f"s{i:05d}", "label": label, "category": CATEGORIES[i % 4],
            "metadata": {"generator": GENERATORS[i % 3]}, "verdict": verdict, "correct": bool(correct[i]),
            "score": round(float(scores[i]), 6), "rouge_l": None if rouge is None else round(float(rouge[i]), 6),
            "response": f"This is a {verdict} image.", "run_key": f"{name}-{task_name}",
        }  # fmt: skip
        lines.append(json.dumps(record))
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    acc = float(correct.mean())
    metrics: dict[str, float | int | None] = {"n": n, "n_missing": 0, "n_errors": 0, "unparsed_rate": 0.0}
    metrics.update(acc=acc, f1=acc - 0.01, auc=min(1.0, acc + 0.02), balanced_acc=acc)
    metrics["rouge_l"] = None if rouge is None else float(rouge.mean())
    ci = {
        m: _ci(rng, float(v), n)
        for m, v in metrics.items()
        if m in ("acc", "f1", "auc", "balanced_acc", "rouge_l") and v is not None
    }
    per_category = {c: {"n": n // 4, "acc": float(correct[i::4].mean())} for i, c in enumerate(CATEGORIES)}
    breakdowns = {
        "generator": {g: {"n": n // 3, "acc": float(correct[i::3].mean())} for i, g in enumerate(GENERATORS)}
    }
    results = {
        "schema_version": 1, "spotfake_version": "0.1.0", "source": "reproduced", "run_key": f"{name}-{task_name}",
        "model": {"name": name, "kind": kind}, "task": {"name": task_name, "version": "1", "n": n},
        "metrics": metrics, "ci": ci, "per_category": per_category, "breakdowns": breakdowns,
        "created": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    (folder / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


def _app_script(results_dir: str, runs_dir: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(AppConfig(results_dir=Path(results_dir), runs_dir=Path(runs_dir)))


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    from streamlit.testing.v1 import AppTest

    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="board-scale-") as tmp:
        runs = Path(tmp) / "runs"
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for model in range(args.models):
            for task in range(args.tasks):
                write_run(runs, model, task, args.samples, rng)
        build_s = time.perf_counter() - start
        at = AppTest.from_function(
            _app_script, args=(str(Path(tmp) / "none"), str(runs)), default_timeout=600
        )
        first = _timed(at.run)
        assert not at.exception, at.exception
        table = next(d.value for d in at.dataframe if "Rank" in d.value.columns)
        assert len(table) == args.models, len(table)
        rerun = _timed(at.run)
        filters = []
        for kinds in (["lmm", "expert"], ["lmm"], ["lmm", "expert", "baseline"]):
            at.multiselect(key="kinds").set_value(kinds)
            filters.append(_timed(at.run))
        switches = []
        for task_name in ("synth-01", "synth-02", "synth-00"):
            at.selectbox(key="task").set_value(task_name)
            switches.append(_timed(at.run))
        at.session_state["tab"] = "Overview"
        overview = _timed(at.run)
        assert not at.exception, at.exception
    report = {
        "benchmark": "board_scale",
        "command": "python benchmarks/bench_board_scale.py "
        f"--models {args.models} --tasks {args.tasks} --samples {args.samples}",
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_avg_1m_before": round(load_before, 2),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "settings": {"folders": args.models * args.tasks, "samples_per_run": args.samples},
        "results": {
            "build_s": round(build_s, 2),
            "first_load_s": round(first, 3),
            "rerun_s": round(rerun, 3),
            "filter_change_s": round(statistics.median(filters), 3),
            "filter_change_all_s": [round(x, 3) for x in filters],
            "task_change_s": round(statistics.median(switches), 3),
            "task_change_all_s": [round(x, 3) for x in switches],
            "overview_s": round(overview, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        },
        "targets": {"first_load_s": 5.0, "filter_change_s": 0.5},
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    print(json.dumps(report, indent=2))
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "board_scale.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
