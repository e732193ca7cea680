"""Per category: a heat map of one metric, models x categories (or any breakdown field)."""

from __future__ import annotations

import streamlit as st

from spotfake.leaderboard import data as lb
from spotfake.leaderboard.tabs.context import BoardContext
from spotfake.leaderboard.views import heatmap, md_escape


def render(ctx: BoardContext) -> None:
    """Models x groups of the chosen breakdown field, coloured by one metric."""
    entries = ctx.clean_entries  # perturbed runs are on the detector tab
    if ctx.task is None or not entries:
        st.info(
            "No result matches the filters: widen Model kind, Source or Where in the sidebar, or run a model "
            "with `spotfake run --model NAME --task TASK`."
        )
        return
    task = ctx.task
    fields = lb.breakdown_fields(entries)
    if not fields:
        st.info(
            "No per-category values for these results: reported rows have none, and a run has them when its "
            "task's samples carry categories or the task lists `breakdowns:` (re-score with `spotfake run`)."
        )
        return
    left, right, _ = st.columns([2, 2, 3])
    by = left.selectbox("Break down by", fields, key=f"breakdown_by:{task}") or fields[0]
    long = lb.breakdown_frame(entries, by)
    metrics = [
        m
        for m in lb.metric_keys(entries)
        if m in set(long["metric"]) and long[long["metric"] == m]["score"].notna().any()
    ]
    if long.empty or not metrics:
        st.info(f"No values by {md_escape(by)} for these results.")
        return
    metric = (
        right.selectbox("Heat map metric", metrics, format_func=lb.metric_label, key=f"heatmap_metric:{task}")
        or metrics[0]
    )
    from spotfake.leaderboard.tabs.detector import held_out_of

    unseen = held_out_of(task).get(by, ())
    st.altair_chart(heatmap(long, metric, by, unseen), width="stretch")
    if unseen:
        st.caption(
            f"(held-out): {md_escape(', '.join(unseen))} were not seen in training (the task says so)."
        )
    if metric_def_needs_scores(metric):
        st.caption(
            f"{lb.metric_label(metric)} of a group that holds fakes but no real image (a generator, a fake "
            "source) compares that group with all real samples of the task (one group vs all reals)."
        )


def metric_def_needs_scores(name: str) -> bool:
    """Whether a metric is a score metric (its fake-only groups are compared with all reals)."""
    from spotfake.harness.metrics.registry import METRICS, metric_def

    return name in METRICS and metric_def(name).needs == "scores"
