"""Cached reading for the app: each file is read again only when its modification time changes.

The caches live in Streamlit's process-wide resource cache, so every session of the server shares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import streamlit as st

from spotfake.harness.types import Sample
from spotfake.leaderboard import data as lb


def mtime_ns(path: Path) -> int:
    """The file's modification time in ns, or 0 when it cannot be read (then it is never cached as fresh)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_resource(max_entries=256, show_spinner=False)
def _samples(folder: str, mtime: int) -> pd.DataFrame:
    return lb.load_samples(Path(folder))


def samples_of(entry: lb.RunEntry) -> pd.DataFrame:
    """The records of a run as a frame indexed by id (cached until its samples.jsonl changes)."""
    return _samples(str(entry.folder), mtime_ns(entry.samples_path))


@st.cache_resource(max_entries=16, show_spinner="Loading the task's samples ...")
def _task(name: str, data_root: str | None) -> Mapping[str, Sample]:
    """The task's samples by id; raises when they cannot be read (an exception is never cached, so data
    that turns up after the server started is found on the next page view)."""
    from spotfake.harness.registry import TASKS
    from spotfake.harness.task import load_task

    if name not in TASKS:  # only registered tasks: a name from a result file is never a path to a task file
        raise LookupError(f"task {name!r} is not registered in this installation")
    task = load_task(name, data_root)
    return {s.id: s for s in task.samples}


def task_samples(name: str, data_root: Path | None) -> tuple[Mapping[str, Sample] | None, str]:
    """The task's samples by id (images, prompt, references), or None and the reason they are not at hand."""
    try:
        return _task(name, None if data_root is None else str(data_root)), ""
    except Exception as exc:  # a missing data root or a broken reader must not take the page down
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


JUDGE_FILE = "judge.jsonl"
"""Per-sample grades of ``spotfake judge``, next to ``samples.jsonl`` (docs/judge.md)."""


@st.cache_resource(max_entries=256, show_spinner=False)
def _judged(path: str, mtime: int) -> dict[str, tuple[int, str]]:
    from spotfake.harness.judge.grades import read_grades

    scores: dict[str, tuple[int, str]] = {}
    for sid, obj in read_grades(Path(path).parent).items():
        if obj.get("status") != "ok":
            continue  # judge failures and errors have no grade
        score, graded = obj.get("score"), obj.get("answer_sha256")
        if (
            isinstance(score, int)
            and not isinstance(score, bool)
            and 1 <= score <= 5
            and isinstance(graded, str)
        ):
            scores[sid] = (score, graded)
    return scores


def judge_scores(entry: lb.RunEntry) -> dict[str, int]:
    """The judge's 1-5 grade of each judged sample of a run (empty when unjudged or unreadable); a grade
    of another answer text than the one recorded now (answers replaced since) is left out."""
    from spotfake.harness.judge.grades import answer_sha256

    path = entry.folder / JUDGE_FILE
    if not path.is_file():
        return {}
    try:
        graded = _judged(str(path), mtime_ns(path))
        responses = samples_of(entry)["response"]
        return {
            sid: score
            for sid, (score, sha) in graded.items()
            if sid in responses.index
            and isinstance(responses[sid], str)
            and answer_sha256(responses[sid]) == sha
        }
    except Exception:  # a broken judge file loses the grades, never the viewer
        return {}
