"""Bradley-Terry ratings recover known strengths; ties are half wins; pairing asks the least-voted pair."""

from __future__ import annotations

import json
import math
import random
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from spotfake.harness.cli import main
from spotfake.leaderboard.arena.pairing import next_matchup
from spotfake.leaderboard.arena.ratings import Rating, bradley_terry, rank_agreement
from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.votes import TaskCatalog, Vote

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def simulate(strengths: dict[str, float], n: int, seed: int, tie_rate: float = 0.1) -> list[Vote]:
    """Votes drawn from a Bradley-Terry model with the given ratings (and some ties)."""
    rng = np.random.default_rng(seed)
    models = sorted(strengths)
    votes = []
    for k in range(n):
        a, b = rng.choice(models, size=2, replace=False)
        p_a = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
        u = rng.random()
        winner = "tie" if u < tie_rate else ("a" if rng.random() < p_a else "b")
        votes.append(Vote("t", f"s{k}", str(a), str(b), winner, f"v{k}", T0))
    return votes


def test_ratings_recover_known_strengths() -> None:
    truth = {"m1": 700.0, "m2": 900.0, "m3": 1000.0, "m4": 1100.0, "m5": 1300.0}
    ratings = bradley_terry(simulate(truth, 4000, seed=1, tie_rate=0.0), n_bootstrap=100, seed=0)
    assert [r.model for r in ratings] == ["m5", "m4", "m3", "m2", "m1"]
    assert np.mean([r.rating for r in ratings]) == pytest.approx(1000.0)
    for r in ratings:
        assert r.ci is not None and r.ci[0] <= r.rating <= r.ci[1]
        assert abs(r.rating - truth[r.model]) < 45
    assert sum(r.votes for r in ratings) == 8000
    # random ties (half wins) pull ratings towards each other but keep the order
    tied = bradley_terry(simulate(truth, 4000, seed=2, tie_rate=0.2), n_bootstrap=0)
    assert [r.model for r in tied] == ["m5", "m4", "m3", "m2", "m1"]


def test_ties_are_half_wins_on_the_elo_scale() -> None:
    votes = [
        Vote("t", f"s{k}", "x", "y", w, "v", T0) for k, w in enumerate(["a", "tie", "tie", "a", "b", "a"])
    ]
    # x: 3 wins + 2 half = 4 of 6; odds 2 -> 400 * log10(2) apart
    ratings = {r.model: r.rating for r in bradley_terry(votes, n_bootstrap=0)}
    assert ratings["x"] - ratings["y"] == pytest.approx(400 * math.log10(2), abs=0.5)
    assert ratings["x"] + ratings["y"] == pytest.approx(2000.0)


def test_a_model_that_always_wins_gets_a_finite_rating() -> None:
    votes = [Vote("t", f"s{k}", "x", "y", "a", "v", T0) for k in range(5)]
    ratings = bradley_terry(votes, n_bootstrap=20)
    assert all(math.isfinite(r.rating) for r in ratings) and ratings[0].model == "x"


def test_rank_agreement_is_oriented_by_the_metric_direction() -> None:
    ratings = [Rating("a", 1100, None, 1), Rating("b", 1000, None, 1), Rating("c", 900, None, 1)]
    metrics = {"acc": {"a": 0.9, "b": 0.8, "c": 0.7}, "css": {"a": 0.1, "b": 0.2, "c": 0.3}, "f1": {"a": 0.5}}
    tau = rank_agreement(ratings, metrics)
    assert tau == {"acc": pytest.approx(1.0), "css": pytest.approx(-1.0), "f1": None}


def test_pairing_asks_the_least_voted_pair_and_never_repeats() -> None:
    task = TaskCatalog(
        samples={"s1", "s2"},
        explained={m: {"s1": ("fake", f"{m} one"), "s2": ("real", f"{m} two")} for m in ("p", "q", "r")},
    )
    rng = random.Random(0)
    counts = {("p", "q"): 5, ("p", "r"): 5, ("q", "r"): 2}
    picks = [next_matchup(task, pair_counts=counts, voted=set(), rng=rng) for _ in range(50)]
    assert all(m is not None and {m.model_a, m.model_b} == {"q", "r"} for m in picks)
    assert {m.model_a for m in picks if m is not None} == {"q", "r"}  # the order is random
    voted: set[tuple[str, str, str]] = set()
    for _ in range(6):
        m = next_matchup(task, pair_counts={}, voted=voted, rng=rng)
        assert m is not None and m.text_a == f"{m.model_a} {'one' if m.sample_id == 's1' else 'two'}"
        key = (m.sample_id, *sorted((m.model_a, m.model_b)))
        assert key not in voted
        voted.add(key)  # type: ignore[arg-type]
    assert next_matchup(task, pair_counts={}, voted=voted, rng=rng) is None


def test_ratings_command_prints_the_issue_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.sqlite3"
    ArenaStore(db).import_votes(simulate({"m1": 900.0, "m2": 1100.0}, 200, seed=3))
    assert main(["arena", "ratings", "--task", "t", "--db", str(db), "--json", "--bootstrap", "50"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "t" and report["n_votes"] == 200
    assert [r["model"] for r in report["ratings"]] == ["m2", "m1"]
    assert (
        set(report["ratings"][0]) == {"model", "rating", "ci", "votes", "below_minimum"}
        and len(report["ratings"][0]["ci"]) == 2
    )
    assert report["min_votes"] == 30 and not any(r["below_minimum"] for r in report["ratings"])
    assert main(["arena", "ratings", "--task", "t", "--db", str(db)]) == 0
    assert "200 votes" in capsys.readouterr().out


def test_ratings_command_holds_back_models_below_the_boards_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As on the board: under 30 votes (or ``--min-votes N``) a model is listed with its count, unrated."""
    db = tmp_path / "a.sqlite3"
    few = [Vote("t", f"n{k}", "newcomer", "m1", "a" if k % 2 else "b", f"w{k}", T0) for k in range(4)]
    ArenaStore(db).import_votes(simulate({"m1": 900.0, "m2": 1100.0}, 200, seed=3) + few)
    argv = ["arena", "ratings", "--task", "t", "--db", str(db), "--bootstrap", "20"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "a rating is printed once its model has 30 votes" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["m2", "m1", "newcomer"]  # the unrated one last
    assert lines[-1].split(None, 1)[1] == "4 votes, below the minimum of 30"
    assert re.search(r"^\s+m2\s+\d+\.\d\s+\[\d+, \d+\]\s+\d+ votes$", lines[1])

    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["min_votes"] == 30 and report["n_votes"] == 204
    assert report["ratings"][-1] == {
        "model": "newcomer", "rating": None, "ci": None, "votes": 4, "below_minimum": True
    }  # fmt: skip
    assert [r["below_minimum"] for r in report["ratings"][:2]] == [False, False]

    assert main([*argv, "--json", "--min-votes", "4"]) == 0  # the maintainers' own threshold
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)["ratings"]}
    assert not rows["newcomer"]["below_minimum"] and len(rows["newcomer"]["ci"]) == 2
    assert isinstance(rows["newcomer"]["rating"], float)
    assert main([*argv, "--min-votes", "205"]) == 0  # above everyone's count: nothing is rated
    assert capsys.readouterr().out.count("below the minimum of 205") == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["arena", "export", "--db", "foo://x"], "cannot open the arena database: Can't load plugin"),
        (["arena", "ratings", "--task", "t", "--db", "{tmp}/none.sqlite3"], "no arena database at"),
        (["arena", "import", "{tmp}/missing.jsonl", "--db", "{tmp}/a.sqlite3"], "votes file not found"),
        (["arena", "ratings", "--task", "t", "--db", "{tmp}/a.sqlite3", "--bootstrap", "-1"], "--bootstrap must be at least 1"),
        (["arena", "ratings", "--task", "t", "--db", "{tmp}/a.sqlite3", "--bootstrap", "0"], "--bootstrap must be at least 1"),
        (["arena", "ratings", "--task", "t", "--db", "{tmp}/a.sqlite3", "--min-votes", "0"], "--min-votes must be at least 1"),
    ],
)  # fmt: skip
def test_arena_commands_refuse_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    ArenaStore(tmp_path / "a.sqlite3").close()
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "none.sqlite3").exists()
