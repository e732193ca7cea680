"""Compare two models: paired tests on the samples both runs have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from harness.errors import SpotfakeError
from leaderboard import data as lb
from leaderboard.loading import mtime_ns
from leaderboard.stats import mcnemar, paired_bootstrap
from leaderboard.tabs.context import BoardContext
from leaderboard.views import format_ci, md_escape

BOOTSTRAP_RESAMPLES = 10_000


@st.cache_resource(max_entries=64, show_spinner=False)
def _comparison(key_a: str, mtime_a: int, key_b: str, mtime_b: int, metric: str) -> dict[str, Any]:
    a = lb.load_samples(Path(key_a))
    b = lb.load_samples(Path(key_b))
    pair = lb.paired_values(a, b, metric)
    out: dict[str, Any] = {
        "n": len(pair),
        "only_a": len(a.index.difference(b.index)),
        "only_b": len(b.index.difference(a.index)),
    }
    if len(pair):
        out["bootstrap"] = paired_bootstrap(pair["a"], pair["b"], resamples=BOOTSTRAP_RESAMPLES, seed=0)
        if metric == "acc":
            out["mcnemar"] = mcnemar(pair["a"].astype(bool), pair["b"].astype(bool))
    return out


def render(ctx: BoardContext) -> None:
    """Two runs, one metric: bootstrap (and McNemar for accuracy) with a verdict sentence."""
    runs = ctx.runs_with_samples
    if ctx.task is None or len(runs) < 2:
        st.info("Two runs with per-sample records on this task are needed for a paired comparison.")
        return
    task = ctx.task
    labels = {e.key: e.label for e in runs}
    keys = list(labels)
    col_a, col_b, col_m = st.columns(3)
    key_a = col_a.selectbox("Model A", keys, index=0, format_func=labels.__getitem__, key=f"cmp_a:{task}")
    key_b = col_b.selectbox("Model B", keys, index=1, format_func=labels.__getitem__, key=f"cmp_b:{task}")
    available = [
        m for m in lb.PER_SAMPLE_METRICS if any(e.results["metrics"].get(m) is not None for e in runs)
    ]
    metric = col_m.selectbox("Metric", available, format_func=lb.metric_label, key=f"cmp_metric:{task}")
    if key_a == key_b:
        st.info("Choose two different runs.")
        return
    by_key = {e.key: e for e in runs}
    try:
        result = _comparison(
            key_a, mtime_ns(by_key[key_a].samples_path), key_b, mtime_ns(by_key[key_b].samples_path), metric
        )
    except SpotfakeError as exc:
        st.error(md_escape(exc))
        return
    if result["n"] == 0:
        st.info("These runs have no sample in common with a value for this metric.")
        return
    boot = result["bootstrap"]
    name_a, name_b = md_escape(labels[key_a]), md_escape(labels[key_b])
    c1, c2, c3 = st.columns(3)
    c1.metric(f"A: {lb.metric_label(metric)}", f"{boot.mean_a:.3f}")
    c2.metric(f"B: {lb.metric_label(metric)}", f"{boot.mean_b:.3f}")
    c3.metric("A − B", f"{boot.diff:+.3f}", help=f"95% CI {format_ci(boot.ci_low, boot.ci_high)}")
    st.text(
        f"Paired bootstrap over the {boot.n} samples both runs have ({boot.resamples:,} resamples, seed 0): "
        f"A - B = {boot.diff:+.4f}, 95% CI {format_ci(boot.ci_low, boot.ci_high)}, p = {boot.p_value:.4g}"
    )
    if "mcnemar" in result:
        mc = result["mcnemar"]
        st.text(
            f"McNemar (exact): A right and B wrong on {mc.only_a_right}, B right and A wrong on {mc.only_b_right}; "
            f"p = {mc.p_value:.4g}"
        )
        st.dataframe(
            pd.DataFrame(
                {"B right": [mc.both_right, mc.only_b_right], "B wrong": [mc.only_a_right, mc.both_wrong]},
                index=["A right", "A wrong"],
            ),
            key="cmp_table",
        )
    test, p = ("McNemar", result["mcnemar"].p_value) if "mcnemar" in result else ("bootstrap", boot.p_value)
    if p < 0.05 and boot.diff != 0:
        better, worse = (name_a, name_b) if boot.diff > 0 else (name_b, name_a)
        st.success(
            f"{better} is better than {worse} on {lb.metric_label(metric)} at the 5% level ({test} p = {p:.3g})."
        )
    else:
        st.info(f"No significant difference at the 5% level ({test} p = {p:.3g}).")
    if result["only_a"] or result["only_b"]:
        st.caption(f"Left out: {result['only_a']} samples only A has, {result['only_b']} only B has.")
