"""Detector views: ROC / PR with the operating point, a threshold slider, score histograms, reliability,
robustness curves over perturbation sweeps, and per-generator bars with seen and held-out generators apart.

Curves use the per-sample p(fake) scores of clean runs (``samples.jsonl``); robustness curves use the
results of the perturbed runs of the same task (``spotfake robustness``); generator bars use the results'
breakdowns and the task's list of held-out values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import streamlit as st

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.perturb import STRENGTH_LABELS
from spotfake.harness.report import curves
from spotfake.leaderboard import data as lb
from spotfake.leaderboard import detector_charts as charts
from spotfake.leaderboard.tabs.context import HELD_OUT, BoardContext
from spotfake.leaderboard.views import md_escape

CURVE_METRICS = (
    "acc",
    "auc",
    "ap",
    "eer",
    "tpr_at_fpr5",
    "tpr_at_fpr1",
    "acc_real",
    "acc_fake",
    "ece",
    "brier",
)
"""Metrics offered first, in this order, when the results have them (then any other registered one)."""


def _offered(values: Iterable[Mapping[str, object]]) -> list[str]:
    """Registered metrics with a value in ``values``: :data:`CURVE_METRICS` first, then the others."""
    from spotfake.harness.metrics import metric_names

    present = {k for v in values for k, x in v.items() if x is not None}
    others = sorted((present & set(metric_names())) - set(CURVE_METRICS))
    return [m for m in CURVE_METRICS if m in present] + others


def _is_clean(entry: lb.RunEntry) -> bool:
    return entry.results.get("perturbation") is None


def _scored_runs(ctx: BoardContext) -> dict[str, tuple[lb.RunEntry, np.ndarray, np.ndarray]]:
    """Clean runs of the task with p(fake) scores on both classes: label -> (entry, labels, scores)."""
    out = {}
    for entry in ctx.runs_with_samples:
        if not _is_clean(entry):
            continue
        try:
            frame = ctx.samples(entry)
        except SpotfakeError as exc:
            st.warning(md_escape(f"{entry.label}: {exc}"))
            continue
        scores = pd.to_numeric(frame["score"], errors="coerce")
        keep = frame["label"].isin(["real", "fake"]) & scores.notna()
        labels = (frame.loc[keep, "label"] == "fake").to_numpy(dtype=np.int64)
        if 0 < labels.sum() < labels.size:
            out[entry.label] = (entry, labels, scores[keep].to_numpy(dtype=np.float64))
    return out


def _curves_section(ctx: BoardContext, task: str) -> None:
    found = _scored_runs(ctx)
    if not found:
        st.info(
            "No clean run of this task has p(fake) scores for real and fake samples (verdict-only models have none)."
        )
        return
    detectors = [name for name, (entry, _, _) in found.items() if entry.kind != "baseline"]
    chosen_runs = st.multiselect(
        "Runs (baselines are left out unless chosen)",
        list(found),
        default=detectors or list(found),
        key=f"det_runs:{task}",
    )
    runs = {name: found[name] for name in chosen_runs}
    if not runs:
        st.info("Choose at least one run.")
        return
    threshold = st.slider(
        "Threshold on p(fake) (flag as fake when p >= threshold)", 0.0, 1.0, 0.5, 0.01, key=f"det_thr:{task}"
    )
    ops = {name: curves.operating_point(y, s, threshold) for name, (_, y, s) in runs.items()}
    rows = [
        {
            "model": name,
            "acc": op.acc,
            "acc (real)": op.acc_real,
            "acc (fake)": op.acc_fake,
            "TPR (fakes caught)": op.tpr,
            "FPR (reals flagged)": op.fpr,
            "n scored": int(runs[name][1].size),
        }
        for name, op in ops.items()
        if op is not None
    ]
    st.dataframe(pd.DataFrame(rows).set_index("model").round(3), width="stretch")
    roc = {}
    pr = {}
    for name, (_, y, s) in runs.items():
        r, p = curves.roc_points(y, s), curves.pr_points(y, s)
        if r is not None and p is not None:
            roc[name], pr[name] = (r, ops[name]), (p, ops[name])
    left, right = st.columns(2)
    left.altair_chart(charts.roc_chart(roc), width="stretch")
    right.altair_chart(charts.pr_chart(pr), width="stretch")
    left, right = st.columns(2)
    bins = {name: curves.reliability_bins(y, s) for name, (_, y, s) in runs.items()}
    left.altair_chart(charts.reliability_chart(bins), width="stretch")
    names = list(runs)
    chosen = right.selectbox("Score histogram of", names, key=f"det_hist:{task}") or names[0]
    edges, real, fake = curves.score_histogram(runs[chosen][1], runs[chosen][2])
    right.altair_chart(charts.histogram_chart(edges, real, fake, threshold), width="stretch")


def _robustness_section(entries: Sequence[lb.RunEntry], task: str) -> None:
    results = [e.results for e in entries if e.source != "reported"]
    perturbed = [r for r in results if r.get("perturbation") is not None]
    if not perturbed:
        st.info(
            "No perturbed run of this task yet: `spotfake robustness --model M --task "
            f"{md_escape(task)} --perturb 'jpeg:95,85,75,60,50'` makes one sweep."
        )
        return
    metrics = _offered(r["metrics"] for r in perturbed)
    if not metrics:
        st.info("The perturbed runs have no metric to draw.")
        return
    metric = (
        st.selectbox("Robustness metric", metrics, format_func=lb.metric_label, key=f"det_rob:{task}")
        or metrics[0]
    )
    points = curves.robustness_points(results, metric)
    names = sorted({p.perturbation for p in points} - {"clean"})
    columns = st.columns(min(2, max(1, len(names))))
    for i, name in enumerate(names):
        of_axis = [p for p in points if p.perturbation in (name, "clean")]
        if not any(p.strength is not None and p.value is not None for p in of_axis if p.perturbation == name):
            continue
        title = STRENGTH_LABELS.get(name, f"{name} strength")
        chart = charts.robustness_chart(
            of_axis, lb.metric_label(metric), title, reverse=name in ("jpeg", "webp")
        )
        columns[i % len(columns)].altair_chart(chart, width="stretch")
    chains = sorted({r["perturbation"]["spec"] for r in perturbed if len(r["perturbation"]["steps"]) != 1})
    if chains:
        st.caption("Chained perturbations (not drawn as curves): " + md_escape(", ".join(chains)))


def held_out_of(task: str) -> Mapping[str, Sequence[str]]:
    """What the task says was held out in training, by breakdown field (empty when unknown)."""
    from spotfake.harness.registry import TASKS

    try:
        return TASKS.get(task).held_out if task in TASKS else {}
    except SpotfakeError:
        return {}


def _generators_section(entries: Sequence[lb.RunEntry], task: str) -> None:
    clean = [e for e in entries if _is_clean(e) and e.results.get("breakdowns")]
    fields = sorted({f for e in clean for f in e.results["breakdowns"]})
    if not fields:
        st.info("These results have no breakdown by generator or source.")
        return
    held_out = held_out_of(task)
    default = fields.index("generator") if "generator" in fields else 0
    left, right = st.columns(2)
    field = left.selectbox("Bars by", fields, index=default, key=f"det_gen_field:{task}") or fields[default]
    metrics = _offered(g for e in clean for g in e.results["breakdowns"].get(field, {}).values())
    metric = right.selectbox(
        "Bar metric", metrics or ["acc"], format_func=lb.metric_label, key=f"det_gen_metric:{task}"
    )
    bars = {e.label: curves.generator_bars(e.results, metric or "acc", field, held_out) for e in clean}
    bars = {k: v for k, v in bars.items() if v}
    if not bars:
        st.info("No values to draw.")
        return
    chart = charts.generator_chart(bars, lb.metric_label(metric or "acc"), field, metric or "acc")
    st.altair_chart(chart, width="stretch")
    if field in held_out:
        st.caption(
            f"The task names {md_escape(', '.join(held_out[field]))} as held out: never seen in training. "
            "Score metrics of a group of fakes compare it with all real samples."
        )
    else:
        st.caption("This task does not say which of these were seen in training.")


def render(ctx: BoardContext) -> None:
    """The detector views of the task on screen."""
    if ctx.task is None or not ctx.entries:
        st.info("No result matches the filters.")
        return
    task = ctx.task
    st.subheader("Curves and threshold")
    if ctx.labels_held_out:  # a curve of known scores would give every sample's label away, step by step
        st.info(HELD_OUT + " Curves are drawn from per-sample scores and labels: not shown for this task.")
    else:
        _curves_section(ctx, task)
    st.subheader("Robustness")
    _robustness_section(ctx.entries, task)
    st.subheader("Per generator")
    _generators_section(ctx.entries, task)
