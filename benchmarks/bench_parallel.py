"""torchrun with 2 CPU processes vs 1 on the same task: identical records, and the wall-time ratio.

    .venv/bin/python benchmarks/bench_parallel.py [--model npr-demo] [--task demo] [--limit N]

Each configuration runs `spotfake run` from scratch in a fresh output folder (no resume), with one thread
per process. Writes benchmarks/results/parallel.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed_run(procs: int, args: list[str], out: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    launcher = [sys.executable, "-m", "spotfake.harness.cli"]
    if procs > 1:
        launcher = [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(procs),
            "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "-m", "spotfake.harness.cli",
        ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run([*launcher, *args, "--output-dir", str(out), "--quiet"], check=True, env=env)
    return time.perf_counter() - started


def records(folder: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "latency_s"} for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="npr-demo")
    parser.add_argument("--model-args", default="")
    parser.add_argument("--task", default="demo")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    common = ["run", "--model", args.model, "--task", args.task, "--batch-size", str(args.batch_size)]
    common += ["--model-args", args.model_args] if args.model_args else []
    common += ["--limit", str(args.limit)] if args.limit else []
    with tempfile.TemporaryDirectory() as tmp:
        one = timed_run(1, common, Path(tmp) / "one")
        two = timed_run(2, common, Path(tmp) / "two")
        sub = Path(args.model) / args.task
        same = records(Path(tmp) / "one" / sub) == records(Path(tmp) / "two" / sub)
        m1 = json.loads((Path(tmp) / "one" / sub / "results.json").read_text())["metrics"]
        m2 = json.loads((Path(tmp) / "two" / sub / "results.json").read_text())["metrics"]
    figures = {
        "model": args.model,
        "task": args.task,
        "limit": args.limit,
        "wall_s_1_process": round(one, 2),
        "wall_s_2_processes": round(two, 2),
        "speedup": round(one / two, 3),
        "identical_records": same,
        "identical_metrics": m1 == m2,
    }
    out = Path(__file__).parent / "results" / "parallel.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
