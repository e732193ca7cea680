"""Benchmark: judge throughput against the loopback judge server, at concurrency 1 and 16.

Grades fakevlm-demo's committed demo run (480 explanations, images sent as PNG data URLs) through the
real HTTP client, each time with an empty cache; the server answers after ``--latency`` seconds (an
endpoint's own time, 0.05 s by default) and is otherwise as fast as Python's threading server. Prints and
stores (benchmarks/results/judge.json) requests/s per concurrency, and the time of a second, fully
cached pass.

    nice .venv/bin/python benchmarks/bench_judge.py [--latency 0.05] [--concurrency 1,16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUN = ROOT / "results" / "reproduced" / "fakevlm-demo" / "demo"
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    from fixtures.judge_server import JudgeServer, JudgeServerState

    from spotfake.harness.judge.run import judge_run
    from spotfake.harness.judge.settings import parse_judge

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", default="1,16")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, JudgeServer(JudgeServerState(delay_s=args.latency)) as server:
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            folder = Path(tmp) / f"run-{concurrency}"
            shutil.copytree(RUN, folder)
            settings = parse_judge(
                "openai", f"base_url={server.base_url},model=bench,concurrency={concurrency}"
            )
            cache = Path(tmp) / f"cache-{concurrency}"
            sent = server.state.requests
            start = time.perf_counter()
            outcome = judge_run(folder, settings, cache_dir=cache)
            wall = time.perf_counter() - start
            requests = server.state.requests - sent
            start = time.perf_counter()
            again = judge_run(folder, settings, cache_dir=cache)
            cached = time.perf_counter() - start
            row = {
                "concurrency": concurrency,
                "requests": requests,
                "wall_s": round(wall, 3),
                "requests_per_s": round(requests / wall, 2),
                "cached_pass_s": round(cached, 3),
                "cached_pass_requests": again.requests,
                "judge": outcome.metrics["judge"],
            }
            rows.append(row)
            print(f"concurrency {concurrency:>2}: {requests} requests in {wall:.2f} s = "
                  f"{requests / wall:.1f} req/s; cached pass {cached:.2f} s, {again.requests} requests")  # fmt: skip
    out = {
        "benchmark": "judge throughput, loopback OpenAI-compatible server",
        "server_latency_s": args.latency,
        "samples": 480,
        "rows": rows,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "judge.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
