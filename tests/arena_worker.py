"""One writer process of the arena concurrency test and benchmark.

``python tests/arena_worker.py URL CATALOG_ROOT WORKER N MODE``: stores N votes of voter ``w<WORKER>-*``
on the demo task, either as one import transaction (MODE=import) or one transaction per vote through the
tab's path (MODE=single); prints ``stored N in S s``.
"""

from __future__ import annotations

import itertools
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from spotfake.leaderboard.arena.catalog import load_catalog
from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.votes import Vote


def worker_votes(catalog_root: Path, worker: int, n: int) -> tuple[list[Vote], object]:
    """N distinct votes for this worker (distinct voters per worker, so no two workers clash)."""
    catalog = load_catalog([catalog_root])
    task = catalog.tasks["demo"]
    models = sorted(task.explained)
    pairs = list(itertools.combinations(models, 2))
    samples = sorted(task.samples)
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    votes = []
    for k in range(n):
        a, b = pairs[k % len(pairs)]
        votes.append(Vote("demo", samples[(k // len(pairs)) % len(samples)], a, b, "abt"[k % 3].replace("t", "tie"),
                          f"w{worker}-{k // 400}", when))  # fmt: skip
    return votes, catalog


def main() -> None:
    url, root, worker, n, mode = (
        sys.argv[1],
        Path(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
        sys.argv[5],
    )
    votes, catalog = worker_votes(root, worker, n)
    store = ArenaStore(url, rate_limit=(10**9, 1.0))
    start = time.perf_counter()
    if mode == "import":
        store.import_votes(votes)
    else:
        for vote in votes:
            store.add_vote(vote, catalog)  # type: ignore[arg-type]
    print(f"stored {len(votes)} in {time.perf_counter() - start:.3f} s", flush=True)
    store.close()


if __name__ == "__main__":
    main()
