"""The first screen: the results of the task on screen, best first, with intervals and a chart."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from leaderboard import data as lb
from leaderboard.tabs.context import ALL, BoardContext
from leaderboard.views import bar_chart, display_table, md_escape

TABLE_DEFAULT_METRICS = ("acc", "f1", "f1_macro", "auc", "rouge_l", "css", "unparsed_rate")


def category_frame(entries: list[lb.RunEntry], frame: pd.DataFrame, category: str) -> pd.DataFrame:
    """``frame`` with its metric columns replaced by one category's values (no CIs per category)."""
    long = lb.breakdown_frame(entries, "category")
    long = long[long["value"] == category]
    out = frame[frame["key"].isin(set(long["key"]))].copy()  # rows without this category are left out
    for col in out.columns:
        if col.endswith(("_lo", "_hi")):
            out[col] = float("nan")
    metrics = [c for c in lb.metric_keys(entries) if c in out]
    for m in metrics:
        values = long[long["metric"] == m].set_index("key")["score"]
        out[m] = out["key"].map(values).astype(float)
    n = long.drop_duplicates("key").set_index("key")["n"]
    out["n"] = pd.to_numeric(out["key"].map(n), errors="coerce").astype("Int64")
    return out


def render(ctx: BoardContext) -> None:
    """The table and the chart of the task on screen."""
    f = ctx.filters
    if f is None:
        st.info(
            "No results yet. Run `make demo` (or `spotfake run ...`) to create local runs in runs/, "
            "or point --results-dir / --runs-dir at folders of results."
        )
        return
    st.subheader(f"Task: {md_escape(f.task)}")
    entries = ctx.entries
    if not entries:
        st.info("No result matches the filters.")
        return
    task = f.task
    frame = ctx.frame
    if f.category != ALL:
        frame = category_frame(entries, frame, f.category)
        st.caption(
            f"Category **{md_escape(f.category)}**: per-category values (intervals are given for the whole task)."
        )
    metrics = [m for m in lb.metric_keys(entries) if frame[m].notna().any()]
    shown = st.multiselect(
        "Metrics",
        metrics,
        default=[m for m in metrics if m in TABLE_DEFAULT_METRICS] or metrics,
        format_func=lb.metric_label,
        key=f"table_metrics:{task}",
    )
    table = display_table(frame, shown, show_ci=f.show_ci)
    config: dict[str, Any] = {
        lb.metric_label(m): st.column_config.NumberColumn(lb.metric_label(m), format="%.3f", help=m)
        for m in shown
    }
    config["n"] = st.column_config.NumberColumn("n", format="%d", help="samples scored")
    config["Model"] = st.column_config.TextColumn("Model", pinned=True)
    for column in table.columns:
        if column.endswith(" 95% CI"):
            config[column] = st.column_config.TextColumn(column, width=115, help="95% bootstrap interval")
    height = min(38 + 35 * len(table), 740)  # every row visible up to about twenty
    st.dataframe(
        table, hide_index=True, column_config=config, placeholder="–", height=height, key="results_table"
    )
    st.caption(
        "**reproduced**: computed by spotfake on this task · **reported**: copied from a publication "
        "(its own protocol and data; no per-sample records) · **submitted**: accepted after the leaderboard "
        "re-scored its answers. **committed**: results/ · **local run**: runs/ on this machine. "
        "Click a column header to sort."
    )
    chart_metrics = [m for m in metrics if m != "unparsed_rate"]
    if chart_metrics:
        metric = (
            st.selectbox(
                "Chart metric", chart_metrics, format_func=lb.metric_label, key=f"chart_metric:{task}"
            )
            or chart_metrics[0]
        )
        st.altair_chart(bar_chart(frame, metric), width="stretch")
