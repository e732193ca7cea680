"""Benchmark: arena vote writes per second into SQLite (WAL) and a throw-away PostgreSQL.

Three loads, each into a fresh database, with the writer of the concurrency test (tests/arena_worker.py):
one process storing votes one transaction each (the tab's path: check, rate limit, duplicate look-up,
insert); 8 such processes at once; 8 processes importing 500 votes each in one transaction. Prints and
stores (benchmarks/results/arena.json) votes/s over the wall time of each load, and checks that every
vote arrived.

    nice .venv/bin/python benchmarks/bench_arena.py [--single 300] [--processes 8]
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
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(TESTS))


def load(url: str, processes: int, n: int, mode: str, catalog: Path) -> dict[str, object]:
    """Run ``processes`` writers of ``n`` votes each at once (their catalog read from ``catalog``);
    votes/s over the wall time."""
    from spotfake.leaderboard.arena.store import ArenaStore

    ArenaStore(url).close()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{TESTS}"}
    start = time.perf_counter()
    workers = [
        subprocess.Popen([sys.executable, str(TESTS / "arena_worker.py"), url, str(catalog), str(w), str(n), mode],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(processes)
    ]  # fmt: skip
    outputs = [w.communicate() for w in workers]
    wall = time.perf_counter() - start
    failed = [err[-300:] for w, (_, err) in zip(workers, outputs, strict=True) if w.returncode != 0]
    inner = [
        float(out.split(" in ")[1].split(" s")[0])
        for _, (out, _) in zip(workers, outputs, strict=True)
        if " in " in out
    ]
    store = ArenaStore(url)
    stored = store.count()
    store.close()
    total = processes * n
    return {
        "mode": mode, "processes": processes, "votes": total, "stored": stored, "failures": failed,
        "wall_s": round(wall, 3), "votes_per_s": round(total / wall, 1),
        "writing_s_max": round(max(inner), 3) if inner else None,
        "votes_per_s_writing": round(total / max(inner), 1) if inner else None,
    }  # fmt: skip


def main() -> None:
    import psycopg
    from postgres import postgres_bin, throwaway_postgres

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=300, help="votes per process, one transaction each")
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()
    loads = [
        (1, args.single, "single"),
        (args.processes, args.single, "single"),
        (args.processes, 500, "import"),
    ]
    rows = []
    bindir = postgres_bin()
    from arena_runs import explaining_results

    with tempfile.TemporaryDirectory() as tmp:
        # the committed demo runs, the baselines turned into explaining runs (the arena's contestants)
        catalog = explaining_results(Path(tmp) / "results")
        for processes, n, mode in loads:
            row = {
                "backend": "sqlite",
                **load(str(Path(tmp) / f"{uuid.uuid4().hex}.sqlite3"), processes, n, mode, catalog),
            }
            rows.append(row)
            print(row)
        if bindir is not None:
            with throwaway_postgres(bindir) as server:
                for processes, n, mode in loads:
                    name = f"bench_{uuid.uuid4().hex[:10]}"
                    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as conn:
                        conn.execute(f"CREATE DATABASE {name}")
                    row = {
                        "backend": "postgresql",
                        **load(server.rsplit("/", 1)[0] + f"/{name}", processes, n, mode, catalog),
                    }
                    rows.append(row)
                    print(row)
    out = {
        "benchmark": "arena vote writes per second",
        "note": "wall time includes starting each writer process (Python, SQLAlchemy, reading the demo "
        "catalog); votes_per_s_writing divides by the slowest writer's own writing time",
        "rows": rows,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "arena.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
