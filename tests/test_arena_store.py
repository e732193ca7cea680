"""The arena's votes database on SQLite and on a throw-away PostgreSQL: import/export, bad input refused
whole, one vote per voter per (sample, pair), the rate limit, and 8 concurrent writers losing nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from arena_runs import explaining_results
from conftest import REPO_ROOT, TESTS_DIR
from postgres import fresh_database_url, postgres_url  # noqa: F401  (fixture)

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.leaderboard.arena.catalog import load_catalog
from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.votes import Catalog, Vote

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def results_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Committed demo runs, the baselines turned into explaining runs (tests/arena_runs.py)."""
    return explaining_results(tmp_path_factory.mktemp("arena-results"))


@pytest.fixture(scope="module")
def catalog(results_root: Path) -> Catalog:
    return load_catalog([results_root])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty arena database of each kind."""
    return fresh_database_url(request, tmp_path, "arena")


def _vote(**changes: object) -> dict[str, object]:
    line: dict[str, object] = {
        "task": "demo", "sample_id": "camera/real/0003.png", "model_a": "fakevlm-demo",
        "model_b": "always-fake", "winner": "a", "voter": "alice", "time": "2026-01-01T12:00:00+00:00",
    }  # fmt: skip
    line.update(changes)
    return line


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def _run(catalog: Catalog, name: str) -> str:
    """The contestant id of the committed run displayed as ``name``."""
    (cid,) = [c for c, shown in catalog.tasks["demo"].display.items() if shown == name]
    return cid


def test_import_then_export_gives_the_same_votes(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], catalog: Catalog, results_root: Path
) -> None:
    fake, always, rand = (_run(catalog, m) for m in ("fakevlm-demo", "always-fake", "random"))
    lines = [_vote(model_a=fake, model_b=always), _vote(model_a=fake, model_b=always, voter="bob", winner="tie"),
             _vote(model_a=rand, model_b=always, winner="both_bad"),
             _vote(model_a=fake, model_b=always, sample_id="coffee/fake/dcgan-0002.png", winner="b",
                   time="2026-01-02T00:00:00Z")]  # fmt: skip
    votes = _write(tmp_path / "votes.jsonl", lines)
    assert main(["arena", "import", str(votes), "--db", db_url, "--results-dir", str(results_root)]) == 0
    assert main(["arena", "export", "--db", db_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"imported 4 votes from {votes}"
    exported = [json.loads(line) for line in out[1:]]
    lines[3]["time"] = "2026-01-02T00:00:00+00:00"
    assert exported == lines
    # a line naming a model by its display name, as earlier versions wrote, is stored under its run
    legacy = _write(tmp_path / "legacy.jsonl", [_vote(voter="carol")])
    assert main(["arena", "import", str(legacy), "--db", db_url, "--results-dir", str(results_root)]) == 0
    assert ArenaStore(db_url).votes()[-1].pair == tuple(sorted((fake, always)))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_vote(model_b="gpt-9"), "line 2: model 'gpt-9' has no run on task demo"),
        (_vote(sample_id="nope.png"), "line 2: task demo has no sample 'nope.png'"),
        (_vote(task="loki"), "line 2: task 'loki' has no explanations on this board"),
        (_vote(winner="A"), "line 2: 'winner' must be one of a, b, tie, both_bad, got 'A'"),
        (_vote(model_b="fakevlm-demo"), "line 2: model_a and model_b are both 'fakevlm-demo'"),
        (_vote(time="yesterday"), "line 2: 'time' 'yesterday' is not an ISO-8601 time"),
        (_vote(extra=1), "line 2: unknown field 'extra'"),
        ('{"task": "demo", "sample_id"', "line 2"),
        (_vote(voter="alice", model_a="always-fake", model_b="fakevlm-demo"), "line 2: duplicate vote (same voter, sample and pair as line 1)"),
    ],
)  # fmt: skip
def test_a_bad_line_refuses_the_whole_file(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad: object,
    message: str,
    results_root: Path,
) -> None:
    votes = _write(tmp_path / "votes.jsonl", [_vote(), bad, _vote(voter="carol")])
    code = main(["arena", "import", str(votes), "--db", db_url, "--results-dir", str(results_root)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0] and str(votes) in err[0]
    assert ArenaStore(db_url).count() == 0  # nothing half-written


def test_a_vote_already_stored_refuses_the_second_file(db_url: str, tmp_path: Path, catalog: Catalog) -> None:
    store = ArenaStore(db_url)
    store.import_file(_write(tmp_path / "a.jsonl", [_vote()]), catalog)
    second = _write(
        tmp_path / "b.jsonl", [_vote(voter="dave"), _vote(model_a="always-fake", model_b="fakevlm-demo")]
    )
    with pytest.raises(SpotfakeError, match=r"b.jsonl line 2: duplicate vote \(already stored\)"):
        store.import_file(second, catalog)
    assert store.count() == 1


def test_one_vote_per_pair_and_a_rate_limit(db_url: str, catalog: Catalog) -> None:
    store = ArenaStore(db_url, rate_limit=(3, 60.0))
    samples = sorted(catalog.tasks["demo"].samples)
    fake, rand = _run(catalog, "fakevlm-demo"), _run(catalog, "random")
    vote = Vote("demo", samples[0], fake, rand, "a", "erin", T0)
    store.add_vote(vote, catalog, now=T0)
    swapped = Vote("demo", samples[0], rand, fake, "b", "erin", T0)
    with pytest.raises(SpotfakeError, match="already voted on this sample and pair"):
        store.add_vote(swapped, catalog, now=T0)
    for sid in samples[1:3]:
        store.add_vote(Vote("demo", sid, fake, rand, "tie", "erin", T0), catalog, now=T0)
    fourth = Vote("demo", samples[3], fake, rand, "a", "erin", T0)
    with pytest.raises(SpotfakeError, match="at most 3 votes per 60 s"):
        store.add_vote(fourth, catalog, now=T0 + timedelta(seconds=10))
    store.add_vote(fourth, catalog, now=T0 + timedelta(seconds=61))
    store.add_vote(Vote("demo", samples[3], fake, rand, "a", "frank", T0), catalog, now=T0)
    assert store.count() == 5
    assert store.voted_keys("erin", "demo") == {(s, *sorted((fake, rand))) for s in samples[:4]}
    with pytest.raises(SpotfakeError, match="'fakevlm-demo' is a display name"):
        store.add_vote(Vote("demo", samples[4], "fakevlm-demo", rand, "a", "gina", T0), catalog, now=T0)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["import", "single"])
def test_eight_writers_at_once_lose_nothing(db_url: str, mode: str, results_root: Path) -> None:
    ArenaStore(db_url).close()  # the table exists before the race
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{TESTS_DIR}"}
    n = 500 if mode == "import" else 100
    workers = [
        subprocess.Popen([sys.executable, str(TESTS_DIR / "arena_worker.py"), db_url, str(results_root), str(w), str(n), mode],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(8)
    ]  # fmt: skip
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-2000:]
        assert out.startswith(f"stored {n} in") and "locked" not in err.lower()
    store = ArenaStore(db_url)
    votes = store.votes("demo")
    assert len(votes) == 8 * n and len({v.key for v in votes}) == 8 * n
