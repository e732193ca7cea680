"""Overview: every model on every task at once (headline metric per task), with an average rank.
Clicking a cell opens that task on the first screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from spotfake.leaderboard import data as lb
from spotfake.leaderboard.overview import human_count, overview
from spotfake.leaderboard.tabs.context import BoardContext
from spotfake.leaderboard.views import model_url

TABLE_KEY = "overview_table"
FIRST_TAB = "Leaderboard"


def task_of_cells(cells: Sequence[tuple[int, str]], columns: Mapping[str, tuple[str, str]]) -> str | None:
    """The task whose column holds the first selected cell, or None (a model or rank cell)."""
    for _, column in cells:
        if column in columns:
            return columns[column][0]
    return None


LEADING = ("Model", "Score")
"""Columns before the tasks': on a 390 px phone the model, its score and the first task's value show."""


def column_order(columns: Sequence[str], task_columns: Sequence[str]) -> list[str]:
    """The model and its score, then one column per task, then everything else in its own order."""
    first = [c for c in LEADING if c in columns] + [c for c in task_columns if c in columns]
    return first + [c for c in columns if c not in first]


def _open_task(columns: Mapping[str, tuple[str, str]]) -> None:
    task = task_of_cells(st.session_state[TABLE_KEY]["selection"]["cells"], columns)
    if task is not None:
        st.session_state["task"] = task
        st.session_state["tab"] = FIRST_TAB


def render(ctx: BoardContext) -> None:
    """The models x tasks table."""
    if ctx.filters is None:
        st.info(
            "No results yet. Run `make demo` (or `spotfake run --model NAME --task TASK`) to create some."
        )
        return
    entries = [e for e in ctx.all_entries if not e.perturbation]
    view = overview(entries, ctx.board.tasks(), merge_tiers=ctx.filters.merge_tiers)
    if view.frame.empty:
        st.info("No result matches the filters: widen Model kind, Source or Where in the sidebar.")
        return
    frame = view.frame.copy()
    frame["Paper"] = [model_url(str(m)) or "" for m in frame["Model"]]
    frame["Licence"] = [lb.model_licence(str(m)) for m in frame["Model"]]
    config = {
        label: st.column_config.NumberColumn(label, format="%.3f", width=118, help=f"{metric} on {task}")
        for label, (task, metric) in view.columns.items()
    }
    config["Model"] = st.column_config.TextColumn("Model", width=150, pinned=True)
    config["Score"] = st.column_config.NumberColumn(
        "Score", width=60, help="wins minus losses against every other row, by mean rank on shared tasks"
    )
    config["Updated"] = st.column_config.TextColumn(
        "Updated", width=96, help="date of the row's newest result"
    )
    config["Avg rank"] = st.column_config.NumberColumn("Avg rank", format="%.1f", width=80)
    config["Paper"] = st.column_config.LinkColumn(
        "Paper", width=110, help="the model's (or its architecture's) paper"
    )
    config["Licence"] = st.column_config.TextColumn(
        "Licence", width=110, help="licence of the weights (an expert's card)"
    )
    config["Tasks"] = st.column_config.NumberColumn("Tasks", width=60, help="tasks with a value")
    config["Params"] = st.column_config.NumberColumn(
        "Params",
        format="compact",  # 7.1B, 24M, 1.2K (what human_count writes), sorted by the number
        width=64,
        help="parameter count: measured at run time, stated by the paper or declared",
    )
    styler = frame.style.apply(
        lambda row: ["color: #777" if row["Source"] == "reported" else "" for _ in row], axis=1
    )
    styler.format({label: "{:.3f}" for label in view.columns}, na_rep="")
    styler.format({"Avg rank": "{:.1f}"})
    styler.format({"Params": human_count}, na_rep="")
    st.dataframe(
        styler,
        hide_index=True,
        column_config=config,
        height=38 + 35 * len(frame),  # every row on the page: nothing hidden below a scroll
        on_select=lambda: _open_task(view.columns),
        selection_mode="single-cell",
        key=TABLE_KEY,
        placeholder="–",
        column_order=column_order(list(frame.columns), list(view.columns)),
    )
    st.caption(
        "One headline metric per task (the first metric its definition lists); a model's best run on the "
        "task (perturbed robustness runs are on the Detector curves tab). **reported** rows are the papers' "
        "own numbers on their own data, kept apart from spotfake's runs and ranked among themselves; "
        + (
            "submissions are ranked with the reproduced runs (the sidebar's toggle). "
            if ctx.filters.merge_tiers
            else "**submitted** rows (self-reported predictions) are ranked apart from reproduced runs unless the "
            "sidebar's toggle merges them. "
        )
        + "**Score**: against every other row of its tier, the mean rank over the tasks both have decides a win "
        "or a loss; wins minus losses (fair to rows that cover other tasks). Avg rank: mean rank over the tasks "
        "a row has. Click a task's cell to open that task."
    )
    st.caption(
        "**Params**: counted at run time from the model's weights (unique parameters of its torch modules); "
        "reported rows: as the paper states; submitted rows: as declared; blank when unknown."
    )
