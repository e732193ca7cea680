"""Judge-vs-human agreement on the arena's votes: ``spotfake judge-check --arena-db DB``.

The votes of the task are read through the arena's store, opened read-only (:class:`.store.ArenaStore`
with ``create=False``: a SQLite file is opened ``mode=ro``, nothing is written). Each vote names two
contestants (runs, :func:`.catalog.contestant_id`; a display name of earlier votes is read as the one run
it names, as :meth:`.votes.TaskCatalog.resolve` reads it) and a sample; their explanations come from the
run folders under the result roots (:func:`.catalog.load_catalog`), graded by the judge of the command line
(its rubric, its cache: explanations already judged cost no request) on the text without reasoning
markup (:func:`harness.verdict.reasoning.explanation_text`). A judge failure is the lowest grade, as in the
``judge`` metric; an explanation the judge could not be asked about, a vote on a run or sample that is not
there, or on a sample outside the rubric's population (LOKI's: annotated fakes), is not graded. The report
is :func:`harness.judge.agreement.agreement`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.harness.judge.agreement import Comparison, agreement
from spotfake.harness.judge.grader import Grader, Job
from spotfake.harness.judge.settings import JudgeSettings
from spotfake.harness.task import LoadedTask
from spotfake.harness.verdict.reasoning import explanation_text
from spotfake.leaderboard.arena.votes import TaskCatalog, Vote


def _value(entry: Mapping[str, Any]) -> float | None:
    """A grade's judge value: a judge failure is the lowest grade (0); no answer from the judge is None."""
    if entry.get("status") == "ok":
        return float(entry["value"])
    return 0.0 if entry.get("status") == "judge_failure" else None


def _contestant(found: TaskCatalog, name: str, task: str) -> str | None:
    """The run ``name`` stands for in ``found`` (itself, or the one run of that display name), or None."""
    try:
        return found.resolve(name, task, "vote")
    except SpotfakeError:
        return None


def vote_jobs(
    votes: Sequence[Vote], found: TaskCatalog, task: LoadedTask, settings: JudgeSettings
) -> tuple[list[tuple[str | None, str | None]], dict[tuple[str, str], Job]]:
    """Per vote, the (run, run) it compares (None: no such run), and one job per (run, sample) to grade."""
    samples = {s.id: s for s in task.samples}
    rubric = settings.rubric_def
    runs: list[tuple[str | None, str | None]] = []
    jobs: dict[tuple[str, str], Job] = {}
    for vote in votes:
        pair = (_contestant(found, vote.model_a, vote.task), _contestant(found, vote.model_b, vote.task))
        runs.append(pair)
        sample = samples.get(vote.sample_id)
        if sample is None or not rubric.applies(sample.label, sample.references):
            continue
        for run in pair:
            answer = found.explained.get(run, {}).get(vote.sample_id) if run is not None else None
            text = explanation_text(answer[1]) if answer is not None else ""
            if run is not None and answer is not None and text.strip():
                refs, images = tuple(sample.references), tuple(sample.images)
                jobs[run, sample.id] = Job(sample.id, answer[0], text, refs, images)
    return runs, jobs


def arena_agreement(
    settings: JudgeSettings,
    task: LoadedTask,
    *,
    db: str | Path | None,
    roots: Sequence[Path | None],
    cache_dir: Path,
) -> dict[str, Any]:
    """The agreement of the judge of ``settings`` with the arena's votes on ``task`` (module doc)."""
    require("sqlalchemy", "leaderboard", "spotfake judge-check --arena-db")
    from spotfake.leaderboard.arena.catalog import load_catalog
    from spotfake.leaderboard.arena.store import ArenaStore

    store = ArenaStore(db, create=False)
    try:
        votes = store.votes(task.spec.name)
    finally:
        store.close()
    found = load_catalog(roots).tasks.get(task.spec.name, TaskCatalog())
    runs, jobs = vote_jobs(votes, found, task, settings)
    keys = list(jobs)
    grader = Grader(settings, cache_dir)
    values = {
        key: _value(entry) for key, entry in zip(keys, grader.grade_all([jobs[k] for k in keys]), strict=True)
    }
    comparisons = [
        Comparison(
            vote.sample_id,
            a or vote.model_a,
            b or vote.model_b,
            vote.winner,
            values.get((a, vote.sample_id)) if a is not None else None,
            values.get((b, vote.sample_id)) if b is not None else None,
        )
        for vote, (a, b) in zip(votes, runs, strict=True)
    ]
    return {
        "task": task.spec.name,
        **agreement(comparisons),
        "n_graded": len(jobs),
        "requests": grader.tally.requests,
        "cache_hits": grader.tally.cache_hits,
    }
