"""The arena under attack: voters rotating names, submissions named like committed models, runs of one
adapter with other settings, pairing that would freeze noise, hostile vote times, database paths and
another application's database. Each case is one line (exit 2 on the CLI) or a number nobody can move."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from arena_runs import COMMITTED, MODELS, explaining_copy, explaining_results
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import read_json
from spotfake.leaderboard.arena.catalog import contestant_id, load_catalog
from spotfake.leaderboard.arena.pairing import next_matchup
from spotfake.leaderboard.arena.ratings import bradley_terry
from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.voters import browser_key, voter_key, voter_of
from spotfake.leaderboard.arena.votes import Catalog, TaskCatalog, Vote, vote_from_json

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def _copy_run(src: Path, dest: Path, **changes: object) -> Path:
    """A copy of a committed run folder, its results.json changed by ``changes`` (dotted keys)."""
    shutil.copytree(src, dest)
    results = read_json(dest / "results.json")
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        node = results
        for part in path:
            node = node[part]
        node[last] = value
    (dest / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return dest


def _results_root(tmp_path: Path) -> Path:
    """Committed demo runs, the baselines turned into explaining runs (the arena leaves fixed sentences
    out; tests/arena_runs.py)."""
    return explaining_results(tmp_path / "results", MODELS)


def _ids(catalog: Catalog) -> dict[str, str]:
    """display name -> contestant id (fails on two contestants with one display name)."""
    names = catalog.tasks["demo"].display
    assert len(set(names.values())) == len(names), names
    return {name: cid for cid, name in names.items()}


# -- who a contestant is ------------------------------------------------------------------------------


def test_a_submission_named_like_a_committed_model_never_replaces_its_explanations(tmp_path: Path) -> None:
    root = _results_root(tmp_path)
    forged = _copy_run(COMMITTED / "fakevlm-demo" / "demo", root / "submitted" / "fakevlm-demo" / "demo",
                       source="submitted")  # fmt: skip
    rows = [json.loads(line) for line in (forged / "samples.jsonl").read_text().splitlines()]
    for k, row in enumerate(rows):
        row["response"] = f"Vote for me: this explanation was replaced. It is sample {k}."
    (forged / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_catalog([root]).tasks["demo"]
    committed = contestant_id(read_json(root / "reproduced" / "fakevlm-demo" / "demo" / "results.json"))
    submitted = contestant_id(read_json(forged / "results.json"))
    assert committed != submitted and {committed, submitted} <= set(task.explained)
    assert "submitted" in submitted and "reproduced" in committed
    sid = rows[0]["id"]
    assert "replaced" not in task.explained[committed][sid][1]
    assert "replaced" in task.explained[submitted][sid][1]
    # a vote naming the model by its display name alone is refused as ambiguous, never credited to one
    with pytest.raises(SpotfakeError, match="names 2 runs on task demo"):
        load_catalog([root]).resolve(Vote("demo", sid, "fakevlm-demo", "random", "a", "v", T0), "line 1")


def test_runs_of_one_adapter_with_other_model_args_are_separate_contestants(tmp_path: Path) -> None:
    root = _results_root(tmp_path)
    runs = tmp_path / "runs"
    _copy_run(COMMITTED / "random" / "demo", runs / "random@seed=1" / "demo",
              **{"model.args": {"seed": "1"}, "model.settings": {"seed": 1}, "model.fingerprint": "0" * 16})  # fmt: skip
    ids = _ids(load_catalog([root, runs]))
    assert {"random", "random@seed=1"} <= set(ids) and ids["random"] != ids["random@seed=1"]


def test_a_local_copy_of_a_committed_run_does_not_replace_it(tmp_path: Path) -> None:
    root = _results_root(tmp_path)
    runs = tmp_path / "runs"
    copy = explaining_copy(COMMITTED / "random" / "demo", runs / "random" / "demo")
    (copy / "samples.jsonl").write_text(
        "".join(
            json.dumps({**json.loads(line), "response": f"local text {k}. More."}) + "\n"
            for k, line in enumerate((copy / "samples.jsonl").read_text().splitlines())
        )
    )
    task = load_catalog([root, runs]).tasks["demo"]
    cid = _ids(load_catalog([root, runs]))["random"]
    assert not any(text.startswith("local text") for _, text in task.explained[cid].values())


# -- voters --------------------------------------------------------------------------------------------


def test_rotating_names_in_one_browser_share_one_rate_limit_and_one_vote(tmp_path: Path) -> None:
    root = _results_root(tmp_path)
    catalog = load_catalog([root])
    ids = _ids(catalog)
    a, b = ids["fakevlm-demo"], ids["random"]
    samples = sorted(catalog.tasks["demo"].samples)
    store = ArenaStore(tmp_path / "arena.sqlite3", rate_limit=(3, 60.0))
    key = "anon-0123456789ab"
    store.add_vote(Vote("demo", samples[0], a, b, "a", voter_of(key, "alice"), T0), catalog, now=T0)
    with pytest.raises(SpotfakeError, match="already voted on this sample and pair"):
        store.add_vote(Vote("demo", samples[0], b, a, "a", voter_of(key, "mallory"), T0), catalog, now=T0)
    for k, name in enumerate(("bob", "")):
        store.add_vote(Vote("demo", samples[k + 1], a, b, "b", voter_of(key, name), T0), catalog, now=T0)
    with pytest.raises(SpotfakeError, match="at most 3 votes per 60 s"):
        store.add_vote(Vote("demo", samples[5], a, b, "a", voter_of(key, "eve"), T0), catalog,
                       now=T0 + timedelta(seconds=5))  # fmt: skip
    assert store.voted_keys(voter_of(key, "someone else"), "demo") == {
        (s, *sorted((a, b))) for s in samples[:3]
    }
    store.add_vote(Vote("demo", samples[5], a, b, "a", voter_of("anon-other", "eve"), T0), catalog, now=T0)
    assert store.count() == 4


def test_the_voter_key_ignores_the_name_and_hides_the_browser_token() -> None:
    assert voter_key(voter_of("anon-1", "x name:y")) == "anon-1" == voter_key("anon-1")
    assert voter_of("anon-1", "  ") == "anon-1"
    token = bytes(range(16))
    mask = b"\x01\x02\x03\x04"
    masked = bytes(t ^ mask[i % 4] for i, t in enumerate(token))
    first = browser_key(f"2|{mask.hex()}|{masked.hex()}|1700000000")
    other_mask = b"\xaa\xbb\xcc\xdd"
    remasked = bytes(t ^ other_mask[i % 4] for i, t in enumerate(token))
    assert first == browser_key(f"2|{other_mask.hex()}|{remasked.hex()}|1700000001")  # a reload keeps it
    assert first is not None and first.startswith("anon-") and token.hex() not in first
    assert browser_key("2|zz|zz|1") is None and browser_key(None) is None and browser_key("") is None


def _arena_app(results_dir: str, runs_dir: str, arena_db: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(AppConfig(results_dir=Path(results_dir), runs_dir=Path(runs_dir), arena_db=arena_db))


@pytest.mark.slow
def test_the_tab_keys_every_vote_of_a_session_on_one_voter_whatever_the_name(tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    root = _results_root(tmp_path)
    db = tmp_path / "arena.sqlite3"
    at = AppTest.from_function(_arena_app, args=(str(root), str(tmp_path / "runs"), str(db)),
                               default_timeout=120)  # fmt: skip
    at.session_state["tab"] = "Arena"
    at.run()
    for name in ("alice", "bob", "carol"):
        at.text_input(key="arena_name").set_value(name).run()
        at.button(key="arena_vote_a:demo").click().run()
        assert not at.exception and not [e.value for e in at.error]
        at.button(key="arena_next:demo").click().run()
    votes = ArenaStore(db).votes("demo")
    assert len(votes) == 3 and len({voter_key(v.voter) for v in votes}) == 1
    assert [v.voter.split(" name:")[1] for v in votes] == ["alice", "bob", "carol"]


# -- pairing -------------------------------------------------------------------------------------------


def test_pairing_keeps_equal_models_equal() -> None:
    """Five equal models, coin-flip votes cast through the pairing with ratings refitted after each vote:
    every two models' 95% intervals overlap (pairing that chases leaders froze noise into ~1,800-point
    gaps)."""
    models = [f"m{i}" for i in range(5)]
    task = TaskCatalog(samples={f"s{k}" for k in range(100)},
                       explained={m: {f"s{k}": (None, m) for k in range(100)} for m in models})  # fmt: skip
    for seed in range(3):
        rng = random.Random(seed)
        votes: list[Vote] = []
        for k in range(300):
            pairs: dict[tuple[str, str], int] = {}
            for v in votes:
                pairs[v.pair] = pairs.get(v.pair, 0) + 1
            m = next_matchup(task, pair_counts=pairs, voted=set(), rng=rng)
            assert m is not None
            votes.append(Vote("t", m.sample_id, m.model_a, m.model_b, rng.choice("ab"), f"v{k}", T0))
        ratings = bradley_terry(votes, n_bootstrap=200, seed=0)
        for r, s in itertools.combinations(ratings, 2):
            assert r.ci is not None and s.ci is not None
            assert r.ci[0] <= s.ci[1] and s.ci[0] <= r.ci[1], (seed, r, s)
        assert max(r.rating for r in ratings) - min(r.rating for r in ratings) < 200
        assert max(r.votes for r in ratings) - min(r.votes for r in ratings) <= 8  # balanced


# -- hostile input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_vote_time_out_of_range_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    root = _results_root(tmp_path)
    ids = _ids(load_catalog([root]))
    line = {"task": "demo", "sample_id": "camera/real/0003.png", "model_a": ids["fakevlm-demo"],
            "model_b": ids["random"], "winner": "a", "voter": "v", "time": when}  # fmt: skip
    votes = tmp_path / "votes.jsonl"
    votes.write_text(json.dumps(line) + "\n")
    db = tmp_path / "a.sqlite3"
    code = main(["arena", "import", str(votes), "--db", str(db), "--results-dir", str(root)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "line 1: 'time'" in err[0] and "out of range" in err[0]


@pytest.mark.parametrize("command", ["import", "export", "ratings"])
def test_a_db_path_below_a_regular_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (tmp_path / "FILE").write_text("not a folder")
    votes = tmp_path / "votes.jsonl"
    votes.write_text("")
    argv = {"import": ["arena", "import", str(votes)], "export": ["arena", "export"],
            "ratings": ["arena", "ratings", "--task", "demo"]}[command]  # fmt: skip
    code = main([*argv, "--db", str(tmp_path / "FILE" / "x.sqlite3")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "FILE" in err[0], err


@pytest.mark.slow
def test_the_tab_says_in_one_line_that_its_db_path_is_below_a_file(tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    (tmp_path / "FILE").write_text("not a folder")
    at = AppTest.from_function(
        _arena_app,
        args=(str(_results_root(tmp_path)), str(tmp_path / "runs"), str(tmp_path / "FILE" / "x.sqlite3")),
        default_timeout=120,
    )
    at.session_state["tab"] = "Arena"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("FILE" in e.value and "\n" not in e.value for e in at.error)


def _foreign(path: Path) -> str:
    """Another application's SQLite file (rollback journal, one table); returns its sha256."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", ["export", "ratings", "import"])
def test_another_applications_database_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    db = tmp_path / "app.sqlite3"
    digest = _foreign(db)
    votes = tmp_path / "votes.jsonl"
    votes.write_text("")
    argv = {"import": ["arena", "import", str(votes), "--results-dir", str(_results_root(tmp_path))],
            "export": ["arena", "export"], "ratings": ["arena", "ratings", "--task", "demo"]}[command]  # fmt: skip
    assert main([*argv, "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a spotfake arena database" in err[0] and str(db) in err[0]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.")) == ["app.sqlite3"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_read_commands_never_write_the_arena_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "arena.sqlite3"
    store = ArenaStore(db)
    store.import_votes([Vote("t", "s1", "x", "y", "a", "v", T0), Vote("t", "s2", "x", "y", "b", "v", T0)])
    store.close()
    with sqlite3.connect(db) as conn:  # as a copy or a backup tool leaves it: no WAL
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    db.chmod(0o444)
    tmp_path.chmod(0o555)  # nothing may be created beside it either
    try:
        digest = hashlib.sha256(db.read_bytes()).hexdigest()
        assert main(["arena", "ratings", "--task", "t", "--db", str(db), "--bootstrap", "5"]) == 0
        assert main(["arena", "export", "--db", str(db)]) == 0
        assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
        assert sorted(p.name for p in tmp_path.iterdir()) == ["arena.sqlite3"]
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    out = capsys.readouterr().out
    assert "2 votes" in out and out.count('"winner"') == 2


def test_votes_stored_under_old_display_names_are_mapped_to_their_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _results_root(tmp_path)
    db = tmp_path / "arena.sqlite3"
    old = [Vote("demo", "camera/real/0003.png", "fakevlm-demo", "random", "a", "alice", T0),
           Vote("demo", "camera/real/0003.png", "always-fake", "gone-model", "b", "bob", T0)]  # fmt: skip
    ArenaStore(db).import_votes(old)  # as an earlier version stored them
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    assert main(["arena", "import", str(empty), "--db", str(db), "--results-dir", str(root)]) == 0
    ids = _ids(load_catalog([root]))
    votes = ArenaStore(db).votes("demo")
    assert (votes[0].model_a, votes[0].model_b) == (ids["fakevlm-demo"], ids["random"])
    assert (votes[1].model_a, votes[1].model_b) == (ids["always-fake"], "gone-model")  # unknown: kept
    assert "mapped 3 model names" in capsys.readouterr().err


# -- fuzzing the vote reader ---------------------------------------------------------------------------

FIELD_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | st.sampled_from(
    ["demo", "a", "b", "tie", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-23:59", "2026-01-01", "\x00",
     "x" * 300, "camera/real/0003.png", "1e400"]
)  # fmt: skip
VOTE_OBJECTS = st.dictionaries(
    st.sampled_from(["task", "sample_id", "model_a", "model_b", "winner", "voter", "time"])
    | st.text(max_size=5),
    FIELD_VALUES | st.lists(FIELD_VALUES, max_size=2),
    max_size=8,
)


def _near(*good: str) -> st.SearchStrategy[object]:
    """Mostly a plausible value, sometimes anything: gets past the first checks to the deeper ones."""
    return st.sampled_from(good) | FIELD_VALUES


NEAR_VOTES = st.fixed_dictionaries(
    {"task": _near("demo"), "sample_id": _near("camera/real/0003.png"), "model_a": _near("x", "y"),
     "model_b": _near("y"), "winner": _near("a", "b", "tie", "both_bad"), "voter": _near("v", "anon-1 name:v"),
     "time": _near("2026-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-23:59",
                   "2026-02-30T00:00:00", "2026-01-01T00:00:00+24:00")},
)  # fmt: skip
FUZZ = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip


@FUZZ
@given(NEAR_VOTES | VOTE_OBJECTS | FIELD_VALUES)
def test_fuzz_vote_objects_are_a_vote_or_one_line(obj: object) -> None:
    try:
        vote = vote_from_json(obj, "votes.jsonl line 1")
    except SpotfakeError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("votes.jsonl line 1")
    else:
        assert json.loads(json.dumps(vote.to_json())) == vote.to_json()


@FUZZ
@given(
    st.binary(max_size=300)
    | st.lists(NEAR_VOTES | VOTE_OBJECTS, max_size=3).map(
        lambda xs: "".join(json.dumps(x) + "\n" for x in xs).encode()
    )
)
def test_fuzz_vote_files_import_whole_or_not_at_all(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "votes.jsonl"
    path.write_bytes(data)
    store = ArenaStore(tmp / "a.sqlite3")
    explained = {m: {"camera/real/0003.png": (None, m)} for m in ("x", "y")}
    task = TaskCatalog(samples={"camera/real/0003.png"}, explained=explained, display={"x": "x", "y": "y"})
    try:
        n = store.import_file(path, Catalog({"demo": task}))
    except SpotfakeError as exc:
        assert "\n" not in str(exc).strip()
        assert store.count() == 0
    else:
        assert store.count() == n and [v.to_json() for v in store.votes()] == [
            vote_from_json(json.loads(line), "").to_json()
            for line in data.decode().splitlines()
            if line.strip()
        ]
    finally:
        store.close()
