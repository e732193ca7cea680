"""``spotfake judge-check --arena-db``: the judge's agreement with the arena's human votes, on a temporary
SQLite arena written through the arena's own import, read back read-only, against the loopback judge."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from arena_runs import explaining_results
from fixtures.judge_server import JudgeServer, grade_text

from spotfake.harness.cli import main
from spotfake.harness.judge.agreement import Comparison, agreement, wilson_interval
from spotfake.harness.judge.rubric import render_prompt
from spotfake.harness.task import load_task
from spotfake.harness.verdict.reasoning import explanation_text
from spotfake.leaderboard.arena.catalog import load_catalog
from spotfake.leaderboard.arena.store import ArenaStore

AGREE, DISAGREE, JUDGE_TIES, HUMAN_TIES, BOTH_BAD = 30, 10, 5, 4, 3


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, written out (Wilson, 1927)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_agreement_counts_and_interval() -> None:
    def c(winner: str, a: float | None, b: float | None, sample: str = "s") -> Comparison:
        return Comparison(sample, "m1", "m2", winner, a, b)

    votes = [c("a", 1.0, 0.5, "s1"), c("b", 0.25, 0.75, "s2"), c("a", 0.0, 0.5, "s2"), c("a", 0.5, 0.5),
             c("tie", 1.0, 0.0), c("both_bad", 0.0, 1.0), c("b", None, 0.5)]  # fmt: skip
    report = agreement(votes)
    assert (report["n_votes"], report["n_human_ties"], report["n_not_graded"]) == (7, 2, 1)
    assert (report["n_judge_ties"], report["n_compared"], report["n_agree"]) == (1, 3, 2)
    assert report["agreement"] == pytest.approx(2 / 3) and report["n_samples"] == 2
    assert report["ci"] == pytest.approx(list(_wilson(2, 3)))
    assert report["pairs"] == [{"models": ["m1", "m2"], "n_compared": 3, "n_agree": 2, "agreement": 2 / 3}]
    empty = agreement([c("tie", 1.0, 0.0)])
    assert empty["agreement"] is None and empty["ci"] is None and wilson_interval(0, 0) is None
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)  # type: ignore[index]


def _expected_grade(verdict: str | None, text: str, references: tuple[str, ...]) -> int:
    """The loopback judge's grade of one explanation, from its own rule."""
    prompt = render_prompt(verdict, explanation_text(text), references, with_image=True, tag="t")
    return grade_text(prompt)[0]


def _votes(root: Path) -> tuple[list[dict[str, str]], int]:
    """Vote lines whose agreement with the loopback judge is known by construction, and how many were cast
    on real samples with a human choice."""
    task = load_task("demo")
    explained = load_catalog([root]).tasks["demo"].explained
    runs = sorted(explained)
    assert len(runs) == 3
    wanted = {"agree": AGREE, "disagree": DISAGREE, "judge_tie": JUDGE_TIES}
    lines: list[dict[str, str]] = []
    on_reals = 0
    for sample, (a, b) in itertools.product(task.samples, itertools.combinations(runs, 2)):
        if sample.id not in explained[a] or sample.id not in explained[b]:
            continue
        ga = _expected_grade(*explained[a][sample.id], sample.references)
        gb = _expected_grade(*explained[b][sample.id], sample.references)
        if ga == gb:
            kind = "judge_tie" if wanted["judge_tie"] else "human_tie"
        else:
            kind = "agree" if wanted["agree"] else "disagree" if wanted["disagree"] else "human_tie"
        if kind == "human_tie":
            if len(lines) >= AGREE + DISAGREE + JUDGE_TIES + HUMAN_TIES + BOTH_BAD:
                break
            winner = "tie" if sum(line["winner"] == "tie" for line in lines) < HUMAN_TIES else "both_bad"
        else:
            wanted[kind] -= 1
            judge_pick = "a" if ga > gb else "b"
            winner = judge_pick if kind != "disagree" else {"a": "b", "b": "a"}[judge_pick]
        on_reals += sample.label == "real" and winner in ("a", "b")
        lines.append({"task": "demo", "sample_id": sample.id, "model_a": a, "model_b": b, "winner": winner,
                      "voter": f"voter-{len(lines)}", "time": "2026-01-01T12:00:00+00:00"})  # fmt: skip
    assert not any(wanted.values())
    return lines, on_reals


def test_judge_check_reports_agreement_with_arena_votes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = explaining_results(tmp_path / "results")
    lines, on_reals = _votes(root)
    votes_file = tmp_path / "votes.jsonl"
    votes_file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    db = tmp_path / "arena.sqlite3"
    store = ArenaStore(db)
    assert store.import_file(votes_file, load_catalog([root])) == len(lines)
    store.close()
    before = db.read_bytes()
    with JudgeServer() as server:
        argv = ["judge-check", "--judge-model", "openai", "--judge-args",
                f"base_url={server.base_url},model=loopback-judge,concurrency=8", "--task", "demo",
                "--limit", "3", "--no-css", "--judge-cache", str(tmp_path / "cache"), "--arena-db", str(db),
                "--results-dir", str(root), "--runs-dir", str(tmp_path / "no-runs")]  # fmt: skip
        assert main([*argv, "--json"]) == 0
        arena = json.loads(capsys.readouterr().out)["arena"]
        sent = server.state.requests
        assert main(argv) == 0 and server.state.requests == sent  # the table, every grade from the cache
        table = capsys.readouterr().out
        loki = [*argv[:4], f"{argv[4]},rubric=loki", *argv[5:], "--json"]
        assert main(loki) == 0
        loki_arena = json.loads(capsys.readouterr().out)["arena"]
    assert db.read_bytes() == before  # read only
    assert arena["n_votes"] == len(lines) == AGREE + DISAGREE + JUDGE_TIES + HUMAN_TIES + BOTH_BAD
    assert arena["n_human_ties"] == HUMAN_TIES + BOTH_BAD and arena["n_not_graded"] == 0
    assert arena["n_judge_ties"] == JUDGE_TIES and arena["n_compared"] == AGREE + DISAGREE
    assert arena["n_agree"] == AGREE and arena["agreement"] == AGREE / (AGREE + DISAGREE)
    assert arena["ci"] == pytest.approx(list(_wilson(AGREE, AGREE + DISAGREE)))
    assert sum(pair["n_compared"] for pair in arena["pairs"]) == AGREE + DISAGREE
    assert f"judge agrees with the person on {AGREE} of {AGREE + DISAGREE} (0.750 [" in table
    # LOKI's rubric grades annotated fakes only: votes on real images are not graded under it
    assert loki_arena["n_not_graded"] == on_reals > 0
    assert ArenaStore(db, create=False).count() == len(lines)
