"""Benchmark: rebuild the committed demo set from its seed, time it, and check it bit for bit.

Builds into a temporary folder (never touching the committed data), then compares every file with the
committed ``tasks/demo/data/manifest.json``. Prints and stores (benchmarks/results/demo_build.json) the wall
time, the CPU time of each generator family, the data size and the verification result.

    nice .venv/bin/python benchmarks/bench_demo_build.py [--jobs 2] [--keep DIR]

The full build trains three generators on CPU and takes several minutes; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="families trained in parallel (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="build here instead of a temporary folder")
    args = parser.parse_args(argv)

    from spotfake.tasks.demo import DATA_DIR
    from spotfake.tasks.demo.build import build
    from spotfake.tasks.demo.config import full
    from spotfake.tasks.demo.manifest import MANIFEST_NAME, read_manifest, verify

    committed = read_manifest(DATA_DIR / MANIFEST_NAME)
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "data"
        start, cpu = time.time(), time.process_time()
        build(out, int(committed["seed"]), jobs=args.jobs, config=full(), log=log)
        wall = time.time() - start
        result = verify(out, DATA_DIR / MANIFEST_NAME)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    family_cpu = {
        m.group(1): float(m.group(2))
        for m in (re.search(r"(\w+): trained and sampled in ([\d.]+) CPU s", x) for x in lines)
        if m
    }
    report = {
        "benchmark": "demo_build",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_1m": os.getloadavg()[0],
        },
        "jobs": args.jobs,
        "seed": committed["seed"],
        "wall_s": round(wall, 1),
        "main_process_cpu_s": round(time.process_time() - cpu, 1),
        "family_cpu_s": family_cpu,
        "bytes": size,
        "files": result.checked + len(result.missing),
        "identical_to_committed": result.ok,
        "changed": len(result.changed),
        "missing": len(result.missing),
        "unexpected": len(result.extra),
    }
    print(json.dumps(report, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "demo_build.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
