"""The first screen: who is best on the task on screen, by how much, and how sure.

Rows are ranked by one metric (the task's headline metric unless another is chosen), each value shows its
95% interval, "vs best" marks rows statistically tied with the best run (paired test on per-sample
records), Gap says how far behind the best a row is. Reported rows carry their paper link, and the
caveat that they are not spotfake's samples is a banner below the table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from spotfake.harness.metrics.registry import METRICS, higher_is_better, metric_def
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.loading import mtime_ns
from spotfake.leaderboard.sidebar import MERGE_TIERS
from spotfake.leaderboard.styling import styled_board
from spotfake.leaderboard.tabs.context import ALL, HELD_OUT, NOTICE, BoardContext
from spotfake.leaderboard.tabs.submit import show_owner_token
from spotfake.leaderboard.ties import PairP, has_paired_test, tie_p_value, tie_p_values
from spotfake.leaderboard.views import bar_chart, board_table, citation_url, md_escape, ranking_tiers

MORE_COLUMNS = ("Kind", "Where", "Code", "Licence", "About")
"""Columns shown on request, so that the default table fits 1400 px without scrolling."""
EMPTY = (
    "No results yet. Run `make demo` (or `spotfake run --model NAME --task TASK`) to create local runs in "
    "runs/, or start with `spotfake leaderboard --results-dir DIR --runs-dir DIR`."
)


def category_frame(
    entries: list[lb.RunEntry], frame: pd.DataFrame, category: str, by: str = "category"
) -> pd.DataFrame:
    """``frame`` with its metric columns replaced by one subset's values (``by`` = ``category`` or a
    breakdown field; no CIs per subset)."""
    long = lb.breakdown_frame(entries, by)
    long = long[long["value"] == category]
    out = frame[frame["key"].isin(set(long["key"]))].copy()  # rows without this category are left out
    for col in out.columns:
        if col.endswith(("_lo", "_hi")):
            out[col] = float("nan")
    for m in [c for c in lb.metric_keys(entries) if c in out]:
        values = long[long["metric"] == m].set_index("key")["score"]
        out[m] = out["key"].map(values).astype(float)
    n = long.drop_duplicates("key").set_index("key")["n"]
    out["n"] = pd.to_numeric(out["key"].map(n), errors="coerce").astype("Int64")
    return out


@st.cache_resource(max_entries=4096, show_spinner=False)
def _pair_p(
    run: str, run_mtime: int, best: str, best_mtime: int, metric: str, _ctx: BoardContext
) -> float | None:
    by_key = {e.key: e for e in _ctx.entries}
    return tie_p_value(_ctx.samples(by_key[run]), _ctx.samples(by_key[best]), metric)


def cached_pair_p(ctx: BoardContext) -> PairP:
    """The paired test of two runs, computed once per pair, metric and file times (filters reuse it)."""
    return lambda run, best, metric: _pair_p(
        run.key, mtime_ns(run.samples_path), best.key, mtime_ns(best.samples_path), metric, ctx
    )


def _help(metric: str) -> str:
    direction = "higher is better" if higher_is_better(metric) else "lower is better"
    card = metric_def(metric).card if metric in METRICS else ""
    return f"{metric}: {card} ({direction}); ± is half the 95% bootstrap interval".replace(" ()", "")


def flagged_banner(frame: pd.DataFrame) -> None:
    """Submissions whose checks passed but whose answers look copied or too good: listed apart, unranked."""
    flagged = frame[frame["flags"].astype(bool)] if "flags" in frame else frame.iloc[:0]
    if flagged.empty:
        return
    names = ", ".join(
        f"{md_escape(n)} ({md_escape(f)})" for n, f in zip(flagged["name"], flagged["flags"], strict=True)
    )
    st.warning(
        f"**{len(flagged)} flagged submission(s)**, listed after the ranked rows without a rank: {names}. "
        "Their numbers match their answers, but the answers look copied from the labels or beat every "
        "reproduced run by more than their interval (docs/leaderboard.md)."
    )


def reported_banner(frame: pd.DataFrame) -> None:
    """The caveat of reported rows, with their citations linked, below the table."""
    reported = frame[frame["source"] == "reported"]
    if reported.empty:
        return
    cites = []
    for citation in sorted(set(reported["citation"]) - {""}):
        url = citation_url(citation)
        cites.append(f"[{md_escape(citation)}]({url})" if url else md_escape(citation))
    st.info(
        f"**{len(reported)} reported row(s)** ({', '.join(cites) or 'publications'}): a paper's own numbers, "
        "not on spotfake's samples; listed after the ranked rows.",
        icon=":material/menu_book:",
    )
    with st.expander("About reported rows"):  # collapsed: a phone's first screen keeps room for the table
        st.markdown(
            "Numbers copied from the publication, measured with its own protocol and data. They have no "
            "intervals and no paired test; compare them with spotfake's runs with care. A published F1 sits "
            "in the column of its positive class (F1 (real +) or F1 (fake +)), read from its own arithmetic "
            "(docs/leaderboard.md)."
        )
        unranked = reported[reported["f1_note"].astype(bool)] if "f1_note" in reported else reported.iloc[:0]
        for name, note in zip(unranked["name"], unranked["f1_note"], strict=True):
            st.caption(f"{md_escape(name)}: {md_escape(note)}")


def _column_config(numbers: pd.DataFrame, shown: list[str], rank_by: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Rank": st.column_config.NumberColumn("Rank", width=52, help=f"by {lb.metric_label(rank_by)}"),
        "Model": st.column_config.TextColumn("Model", width=170, pinned=True),
        "Source": st.column_config.TextColumn(
            "Source",
            width=92,
            help="reproduced: run by spotfake; reported: from a paper; submitted: self-reported predictions, "
            "re-scored (⚑: flagged, ranked apart)",
        ),
        "vs best": st.column_config.TextColumn(
            "vs best",
            width=150,
            help="best; tied or worse by a paired test against the best run at the 5% level (McNemar for "
            "Acc, DeLong for AUC, paired bootstrap for ROUGE-L / CSS; runs with records only); worse "
            "(intervals apart) when the 95% intervals do not overlap; not tested otherwise",
        ),
        "Gap": st.column_config.NumberColumn(
            "Gap", width=62, help=f"behind the best in {lb.metric_label(rank_by)}"
        ),
        "n": st.column_config.NumberColumn("n", width=56, help="samples scored"),
        "Kind": st.column_config.TextColumn("Kind", width=112),
        "Where": st.column_config.TextColumn("Where", width=150, help="committed results/ or local runs/"),
        "Code": st.column_config.LinkColumn(
            "Code", width=120, help="a submission's code, as its submitter gave it"
        ),
        "Licence": st.column_config.TextColumn("Licence", width=100, help="as the submitter gave it"),
        "About": st.column_config.TextColumn("About", width=220, help="the submitter's description"),
        "Paper": st.column_config.LinkColumn(
            "Paper",
            width=96,
            display_text=r"https://arxiv\.org/abs/(.*)",
            help="the model's paper (of its architecture for models trained here); a reported row's source; "
            "a submission's own paper, as its submitter gave it",
        ),
    }
    for m in shown:
        config[lb.metric_label(m)] = st.column_config.NumberColumn(
            lb.metric_label(m), width=104, help=_help(m)
        )
    return {k: v for k, v in config.items() if k in numbers.columns}


def render(ctx: BoardContext) -> None:
    """The ranked table and the chart of the task on screen."""
    f = ctx.filters
    if f is None:
        st.info(EMPTY)
        return
    task = f.task
    st.subheader(f"Task: {md_escape(task)}", help=md_escape(lb.task_description(task)) or None)
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(str(notice))
    show_owner_token()
    if task in ctx.config.held_out_labels:
        st.caption(HELD_OUT)
    entries = ctx.clean_entries
    perturbed = len(ctx.entries) - len(entries)
    if perturbed:
        st.caption(f"{perturbed} perturbed (robustness) run(s) of this task are on the Detector curves tab.")
    if not entries:
        st.info("No result matches the filters: widen Model kind, Source or Where in the sidebar.")
        return
    frame = ctx.clean_frame
    if f.category != ALL:
        frame = category_frame(entries, frame, f.category, f.group_by)
        st.caption(
            f"**{md_escape(f.group_label)}**: the values of this subset (no intervals per subset; a fake-only "
            "subset's score metrics compare its fakes with all reals). Not tested against the best here: the "
            "Compare tab tests any two runs on this subset."
        )
    metrics = [m for m in lb.metric_keys(entries) if frame[m].notna().any()]
    if not metrics:
        st.info("These results have no metric values.")
        return
    # one row that wraps: on a phone, Rank by and More share the second line
    controls = st.container(horizontal=True, vertical_alignment="bottom")
    shown = controls.multiselect(
        "Metrics",
        metrics,
        default=[m for m in metrics if m in lb.DEFAULT_SHOWN] or metrics[:5],
        format_func=lb.metric_label,
        key=f"table_metrics:{task}",
    )
    rankable = [m for m in metrics if lb.rankable(m)] or metrics
    headline = lb.headline_metric(task, rankable) or rankable[0]
    rank_by = controls.selectbox(
        "Rank by",
        rankable,
        index=rankable.index(headline),
        format_func=lb.metric_label,
        key=f"rank_by:{task}",
        help="rows are sorted best first in this metric's direction",
        width=190,
    )
    rank_by = rank_by or headline
    extra = controls.toggle(
        "More",
        key="board_more_columns",
        help="also show each row's model kind and where its files are, and a submission's code, licence and "
        "description",
    )
    tied: dict[str, float | None] = {}
    if f.category == ALL and has_paired_test(rank_by):
        try:
            tiers = ranking_tiers(frame, f.merge_tiers)
            for tier in sorted(set(tiers)):  # each tier is tested against its own best
                tied |= tie_p_values(frame[tiers == tier], entries, rank_by, cached_pair_p(ctx))
        except Exception as exc:  # a bad records file loses the marks, never the table
            st.caption("Tie marks unavailable: " + md_escape(str(exc).splitlines()[0] if str(exc) else exc))
    numbers, text = board_table(
        frame, shown, rank_by, show_ci=f.show_ci, tied=tied, merge_tiers=f.merge_tiers
    )
    best_marked = [lb.metric_label(m) for m in shown if lb.rankable(m)]  # a diagnostic has no "best"
    styler = styled_board(numbers, text, best_marked, ctx.highlight)
    st.dataframe(
        styler,
        hide_index=True,
        column_config=_column_config(numbers, shown, rank_by),
        column_order=[c for c in numbers.columns if extra or c not in MORE_COLUMNS],
        height=min(38 + 35 * len(numbers), 740),
        key=f"results_table:{task}",
        width="stretch",
        placeholder="–",
    )
    apart = (
        " Submissions are ranked apart from reproduced runs (each from 1); the sidebar's "
        f"“{MERGE_TIERS}” ranks them together."
        if not f.merge_tiers and {"reproduced", "submitted"} <= set(frame["source"])
        else ""
    )
    st.caption(
        "**reproduced**: computed by spotfake on this task · **reported**: copied from a publication · "
        "**submitted**: self-reported predictions, accepted after the leaderboard re-scored them. ± is half "
        f"the 95% bootstrap interval. Click a header to sort by value.{apart}"
    )
    # after the table, so that a phone's first screen reaches the rows themselves (Source marks each row)
    reported_banner(frame)
    flagged_banner(frame)
    chart_metrics = [m for m in metrics if m != "unparsed_rate"]
    if chart_metrics:
        metric = st.selectbox(
            "Chart metric",
            chart_metrics,
            index=chart_metrics.index(rank_by) if rank_by in chart_metrics else 0,
            format_func=lb.metric_label,
            key=f"chart_metric:{task}",
        )
        chosen = metric or chart_metrics[0]
        floor = lb.verdict_only_floor(entries, chosen)
        st.altair_chart(bar_chart(frame, chosen, floor), width="stretch")
        if floor is not None:
            st.caption(
                f"Dotted line: the verdict-only floor of {md_escape(lb.metric_label(chosen))} ({floor:.3f}), "
                "what a model scores that only says 'This is a real/fake image.'; an explanation below it "
                "adds nothing to its verdict."
            )
