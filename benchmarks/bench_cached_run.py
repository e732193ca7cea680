"""Benchmark: a second ``spotfake run`` with nothing left to predict, against the first.

Runs ``spotfake run`` (every embedded model on the demo task) twice into a fresh output folder, each in its
own process as a user would, and records both wall times. The second run must take at most 5% of the
first: it builds no model (the run folder's launch index knows each run key), embeds nothing and keeps
each ``results.json`` as written. Also checked: the two boards are identical, the second run's stderr has
no third-party progress bar, and every metric equals the committed ``results/reproduced/`` runs.

    nice .venv/bin/python benchmarks/bench_cached_run.py [--output-dir DIR] [--models a,b]

Prints and stores benchmarks/results/cached_run.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
REPRODUCED = ROOT / "results" / "reproduced"
NOISE = ("Loading weights", "it/s]", "Batches:")


def _run(output_dir: Path, models: str | None) -> tuple[float, str, str]:
    argv = [sys.executable, "-m", "spotfake.harness.cli", "run", "--output-dir", str(output_dir)]
    if models:
        argv += ["--model", models]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"spotfake run failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return wall, proc.stdout, proc.stderr


def _metrics(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"metrics": data["metrics"], "ci": data["ci"], "run_key": data.get("run_key")}


def _compare_reproduced(output_dir: Path) -> dict[str, dict[str, Any]]:
    """Per model, against the committed run: metrics/CIs equal, changed (both values), or only on one side
    (metrics added or dropped since the committed run was made)."""
    out: dict[str, dict[str, Any]] = {}
    for committed in sorted(REPRODUCED.glob("*/demo/results.json")):
        model = committed.parent.parent.name
        mine = output_dir / model / "demo" / "results.json"
        if not mine.is_file():
            continue
        ours, theirs = _metrics(mine), _metrics(committed)
        report: dict[str, Any] = {"same_run_key": ours["run_key"] == theirs["run_key"]}
        for part in ("metrics", "ci"):
            common = sorted(set(ours[part]) & set(theirs[part]))
            report[f"{part}_equal"] = sum(1 for k in common if ours[part][k] == theirs[part][k])
            report[f"{part}_changed"] = {
                k: [theirs[part][k], ours[part][k]] for k in common if ours[part][k] != theirs[part][k]
            }
            report[f"{part}_only_now"] = sorted(set(ours[part]) - set(theirs[part]))
            report[f"{part}_only_committed"] = sorted(set(theirs[part]) - set(ours[part]))
        out[model] = report
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir", type=Path, help="empty folder for the runs (default: a temporary one)"
    )
    parser.add_argument("--models", help="comma-separated models (default: every embedded model)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="spotfake-cached-") as tmp:
        output_dir = args.output_dir or Path(tmp) / "runs"
        if output_dir.exists() and any(output_dir.iterdir()):
            raise SystemExit(f"{output_dir} is not empty: the first run must predict everything")
        first_s, first_board, _ = _run(output_dir, args.models)
        second_s, second_board, second_err = _run(output_dir, args.models)
        reproduced = _compare_reproduced(output_dir)
    ratio = second_s / first_s
    figures = {
        "what": "second `spotfake run` (nothing left to predict) against the first, embedded models on demo",
        "models": args.models or "embedded",
        "first_run_s": round(first_s, 2),
        "second_run_s": round(second_s, 2),
        "second_over_first": round(ratio, 4),
        "target": "<= 0.05",
        "met": ratio <= 0.05,
        "boards_identical": first_board == second_board,
        "third_party_progress_in_second_run": any(n in second_err for n in NOISE),
        "second_run_stderr": [
            line.replace(str(output_dir), "<output-dir>") for line in second_err.strip().splitlines()[-3:]
        ],
        "reproduces_results_reproduced": reproduced,
        "load_average_before_first": round(load_before, 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "measured": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cached_run.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    return 0 if figures["met"] and figures["boards_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
