"""Compare two models on the samples both ran: one sentence for the chosen metric, then every metric.

Defaults to the two best runs that are not baselines (by the task's headline metric). Accuracy uses the
exact McNemar test, AUC DeLong's test, every other metric a paired bootstrap through the engine's own
metric functions (:mod:`leaderboard.paired`). A button opens the samples where the two disagree in the
explanation viewer.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.registry import higher_is_better
from spotfake.harness.results import read_records
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.loading import mtime_ns
from spotfake.leaderboard.paired import Group, MetricComparison, compare_runs, in_group
from spotfake.leaderboard.stats import format_p
from spotfake.leaderboard.tabs.context import HELD_OUT, BoardContext
from spotfake.leaderboard.views import md_escape

VIEWER_TAB = "Explanations"


@st.cache_resource(max_entries=32, show_spinner="Comparing the two runs sample by sample ...")
def _compare(
    folder_a: str,
    mtime_a: int,
    folder_b: str,
    mtime_b: int,
    metrics: tuple[str, ...],
    answer_kind: str,
    group: Group | None = None,
) -> tuple[list[MetricComparison], int, int, int]:
    a = read_records(Path(folder_a) / "samples.jsonl")
    b = read_records(Path(folder_b) / "samples.jsonl")
    ids_a, ids_b = {r.id for r in a}, {r.id for r in b}
    by_id = {r.id: r for r in b}
    shown = [r for r in a if group is None or in_group(r, group)]
    disagree = sum(1 for r in shown if r.id in by_id and r.verdict != by_id[r.id].verdict)
    found = compare_runs(metrics, a, b, answer_kind, group=group)
    return found, len(ids_a - ids_b), len(ids_b - ids_a), disagree


def default_pair(runs: list[lb.RunEntry], frame: pd.DataFrame, metric: str) -> tuple[int, int]:
    """Indices of the two best runs that are neither baselines nor perturbed (others only to fill in)."""
    keys = [e.key for e in runs]
    ranked = frame[frame["key"].isin(keys)].sort_values(
        metric, ascending=not higher_is_better(metric), na_position="last", kind="stable"
    )
    plain = {e.key: e.kind != "baseline" and not e.perturbation for e in runs}
    preferred = [k for k in ranked["key"] if plain[k]]
    order = preferred + [k for k in ranked["key"] if k not in preferred]
    first, second = (order + keys)[:2] if len(order) >= 2 else keys[:2]
    return keys.index(first), keys.index(second)


def sentence(name_a: str, name_b: str, c: MetricComparison, subset: str | None = None) -> str:
    """One plain sentence: values, the difference with its interval, the test's p-value and the verdict
    (naming the subset tested, when it is one)."""
    where_n = f"the {c.n} samples both ran" + (f" in {subset}" if subset else "")
    label = lb.metric_label(c.metric)
    better = (c.diff > 0) == higher_is_better(c.metric)
    where = "higher" if c.diff > 0 else "lower"
    ci = f"95% CI {c.ci_low:+.3f} to {c.ci_high:+.3f}" if c.ci_low == c.ci_low else "no interval"
    verdict = (
        f"{name_a if better else name_b} is better at the 5% level"
        if c.p_value < 0.05 and c.diff != 0
        else "no significant difference at the 5% level"
    )
    if c.diff == 0:
        return f"{name_a} and {name_b} have the same {label} ({c.value_a:.3f}) on {where_n}: {verdict}."
    return (
        f"{name_a}'s {label} is {c.value_a:.3f}, {abs(c.diff):.3f} {where} than {name_b}'s {c.value_b:.3f} on "
        f"{where_n} ({ci}, {c.test} {format_p(c.p_value)}): {verdict}."
    )


def _open_viewer(task: str, keys: list[str]) -> None:
    st.session_state["tab"] = VIEWER_TAB
    st.session_state[f"explain_models:{task}"] = keys
    st.session_state[f"explain_show:{task}"] = "where the models disagree"


def render(ctx: BoardContext) -> None:
    """Two runs, the chosen metric in one sentence, then every metric in a table."""
    if ctx.labels_held_out:
        st.info(HELD_OUT + " Paired tests read per-sample records: not offered for this task.")
        return
    runs = ctx.runs_with_samples
    if ctx.task is None or len(runs) < 2:
        st.info(
            "Two runs with per-sample records on this task are needed for a paired comparison: run a second "
            "model with `spotfake run --model NAME --task TASK`."
        )
        return
    task = ctx.task
    frame = ctx.frame
    metrics = [m for m in lb.metric_keys(runs) if m in lb.metric_order()]
    headline = lb.headline_metric(task, metrics) or metrics[0]
    labels = {e.key: e.label for e in runs}
    keys = list(labels)
    first, second = default_pair(runs, frame, headline)
    col_a, col_b, col_m = st.columns(3)
    key_a = col_a.selectbox("Model A", keys, index=first, format_func=labels.__getitem__, key=f"cmp_a:{task}")
    key_b = col_b.selectbox(
        "Model B", keys, index=second, format_func=labels.__getitem__, key=f"cmp_b:{task}"
    )
    metric = col_m.selectbox(
        "Metric",
        metrics,
        index=metrics.index(headline),
        format_func=lb.metric_label,
        key=f"cmp_metric:{task}",
    )
    if key_a is None or key_b is None or metric is None or key_a == key_b:
        st.info("Choose two different runs.")
        return
    by_key = {e.key: e for e in runs}
    kind = str(by_key[key_a].results["task"].get("answer_kind", "verdict"))
    values_a, values_b = by_key[key_a].results["metrics"], by_key[key_b].results["metrics"]
    both = tuple(m for m in metrics if values_a.get(m) is not None and values_b.get(m) is not None)
    try:
        found, only_a, only_b, disagree = _compare(
            key_a, mtime_ns(by_key[key_a].samples_path), key_b, mtime_ns(by_key[key_b].samples_path),
            both, kind, ctx.filters.group if ctx.filters else None,
        )  # fmt: skip
    except SpotfakeError as exc:
        st.error(md_escape(exc))
        return
    by_metric = {c.metric: c for c in found}
    subset = ctx.filters.group_label if ctx.filters and ctx.filters.group else None
    if subset:
        st.caption(
            f"Tested on the subset **{md_escape(subset)}** (the Category control above): each row's n is "
            "the subset's shared samples; score metrics of a fake-only subset also count every real."
        )
    name_a, name_b = by_key[key_a].name, by_key[key_b].name
    if metric not in by_metric:
        st.info(
            f"{md_escape(lb.metric_label(metric))} has no value for both runs (e.g. AUC needs p(fake) scores "
            "from both); choose another metric."
        )
    else:
        st.markdown("#### " + md_escape(sentence(name_a, name_b, by_metric[metric], subset)))
    rows = [
        {
            "Metric": lb.metric_label(c.metric),
            "n": c.n,
            "A": c.value_a,
            "B": c.value_b,
            "A − B": c.diff,
            "95% CI": f"{c.ci_low:+.3f} to {c.ci_high:+.3f}" if c.ci_low == c.ci_low else "",
            "p": format_p(c.p_value).removeprefix("p = ").removeprefix("p "),
            "test": c.test,
            "Better if": "higher" if higher_is_better(c.metric) else "lower",
        }
        for c in found
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "A": st.column_config.NumberColumn(f"A: {name_a}"[:40], format="%.3f"),
            "B": st.column_config.NumberColumn(f"B: {name_b}"[:40], format="%.3f"),
            "A − B": st.column_config.NumberColumn("A − B", format="%+.3f"),
        },
        key=f"cmp_table:{task}",
    )
    st.caption(
        "Accuracy: exact McNemar test on the samples one run gets right and the other wrong. AUC: DeLong's "
        "test. Other metrics: paired bootstrap (2,000 resamples of the shared samples, seed 0). "
        + (f"Left out: {only_a} samples only A has, {only_b} only B has." if only_a or only_b else "")
    )
    st.button(
        f"Show the {disagree} samples where their verdicts differ",
        on_click=_open_viewer,
        args=(task, [key_a, key_b]),
        disabled=disagree == 0,
        key=f"cmp_discordant:{task}",
    )
