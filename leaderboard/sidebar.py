"""The sidebar: task, category, model kind, source and origin filters (their values live in session state)."""

from __future__ import annotations

import streamlit as st

from spotfake.leaderboard import data as lb
from spotfake.leaderboard.config import AppConfig
from spotfake.leaderboard.tabs.context import ALL, Filters
from spotfake.leaderboard.views import md_escape

TASK_KEY = "task"
MERGE_TIERS = "Rank submissions with reproduced runs"


def sidebar(board: lb.Board, config: AppConfig) -> Filters | None:
    """Draw the filters: task and category in a row at the top of the page (every tab but the overview
    is about one task), kind, source and origin in the sidebar. None when the board has no result."""
    st.sidebar.header("Filters")
    st.sidebar.caption("Committed results: " + md_escape(config.results_dir or "(none)"))
    st.sidebar.caption("Local runs: " + md_escape(config.runs_dir or "(none)"))
    tasks = board.tasks()
    if not tasks:
        return None
    if st.session_state.get(TASK_KEY) not in (None, *tasks):
        del st.session_state[TASK_KEY]  # a task whose results went away
    counts = {t: sum(1 for e in board.for_task(t) if not e.perturbation) for t in tasks}
    pick_task, pick_category, _ = st.columns([2, 2, 3])
    task = pick_task.selectbox(
        "Task", tasks, format_func=lambda t: f"{t} ({counts[t]} results)", key=TASK_KEY
    )
    if task is None:
        return None
    entries = board.for_task(task)
    groups = subsets(entries)
    chosen = pick_category.selectbox(
        "Category",
        [ALL, *groups],
        key=f"category:{task}",
        help="a subset of the samples: a category, or a value of any breakdown the results carry "
        "(generator, source, ...); every tab then shows and tests that subset",
    )
    group_by, category = groups.get(chosen or ALL, ("category", ALL))
    # kinds, sources and origins keep their choice from task to task, so all of them are always offered
    kinds = st.sidebar.multiselect(
        "Model kind", lb.KINDS, default=lb.KINDS, format_func=lambda k: lb.KIND_LABELS.get(k, k), key="kinds"
    )
    sources = st.sidebar.multiselect("Source", lb.SOURCES, default=lb.SOURCES, key="sources")
    merge_tiers = st.sidebar.toggle(
        MERGE_TIERS,
        key="merge_tiers",
        help="off: reproduced runs are ranked first and submissions (self-reported predictions) apart, each "
        "from 1 with its own best; on: one ranking",
    )
    origins = (lb.COMMITTED, lb.LOCAL)
    chosen_origins = st.sidebar.multiselect(
        "Where", origins, default=origins, format_func=lambda o: lb.ORIGIN_LABELS[o], key="origins"
    )
    show_ci = st.sidebar.checkbox("Show 95% confidence intervals", value=True, key="show_ci")
    return Filters(
        task, category, tuple(kinds), tuple(sources), tuple(chosen_origins), show_ci, group_by, merge_tiers
    )


def subsets(entries: list[lb.RunEntry]) -> dict[str, tuple[str, str]]:
    """Every subset the results carry, by label (``category: animal``, ``generator: ddpm``)."""
    out: dict[str, tuple[str, str]] = {}
    for field in lb.breakdown_fields(entries):
        values = set()
        for e in entries:
            groups = (
                e.results.get("per_category", {})
                if field == "category"
                else e.results.get("breakdowns", {}).get(field, {})
            )
            values |= set(groups)
        for value in sorted(values):
            out[f"{field}: {value}"] = (field, value)
    return out
