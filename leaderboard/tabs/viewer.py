"""The explanation viewer: one sample's image, prompt and reference beside each chosen model's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from harness.errors import SpotfakeError
from leaderboard.tabs.context import ALL, BoardContext
from leaderboard.views import md_escape


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render(ctx: BoardContext) -> None:
    """Pick models and a sample; show what each model said about it."""
    f = ctx.filters
    runs = ctx.runs_with_samples
    if f is None or not runs:
        st.info("No run with per-sample records for this task (reported rows have none).")
        return
    task = f.task
    labels = {e.key: e.label for e in runs}
    chosen = st.multiselect(
        "Models",
        list(labels),
        default=list(labels)[:3],
        format_func=labels.__getitem__,
        key=f"explain_models:{task}",
        max_selections=4,
    )
    if not chosen:
        return
    by_key = {e.key: e for e in runs}
    frames = {}
    for key in chosen:
        try:
            frames[key] = ctx.samples(by_key[key])
        except SpotfakeError as exc:
            st.error(md_escape(exc))
            return
    ids = list(frames[chosen[0]].index)
    first = frames[chosen[0]]
    if f.category != ALL:
        ids = [i for i in ids if first.at[i, "category"] == f.category]
    only = st.radio(
        "Show",
        ["all samples", "where the models disagree", "where any model is wrong"],
        horizontal=True,
        key=f"explain_show:{task}",
    )
    if only is not None and only != "all samples":
        keep = []
        for i in ids:
            verdicts = [fr.at[i, "verdict"] if i in fr.index else None for fr in frames.values()]
            wrong = [fr.at[i, "correct"] is not True if i in fr.index else True for fr in frames.values()]
            if (only.startswith("where the") and len(set(verdicts)) > 1) or (
                only.startswith("where any") and any(wrong)
            ):
                keep.append(i)
        ids = keep
    if not ids:
        st.info("No sample matches.")
        return
    sample_id = st.selectbox(f"Sample ({len(ids)})", ids, key=f"explain_sample:{task}")
    samples, problem = ctx.task_samples(task)
    sample = samples.get(sample_id) if samples else None
    row = first.loc[sample_id]
    st.text(f"id: {sample_id}    label: {row['label']}    category: {row['category'] or '-'}")
    left, right = st.columns([1, 2])
    with left:
        shown = False
        if sample is not None:
            for path in sample.images:
                if Path(path).is_file():
                    st.image(str(path), width=320)
                    shown = True
        if not shown:
            st.caption("No image at hand" + (" (the task's data was not found)." if sample is None else "."))
    with right:
        if sample is not None:
            st.caption("Prompt")
            st.text(sample.prompt)
            for n, ref in enumerate(sample.references, start=1):
                st.caption("Reference" + (f" {n}" if len(sample.references) > 1 else ""))
                st.text(ref)
            if not sample.references:
                st.caption("This sample has no reference explanation.")
        else:
            st.caption("Prompt and reference need the task's data: " + md_escape(problem or "not loaded"))
    columns = st.columns(len(chosen))
    for column, key in zip(columns, chosen, strict=True):
        frame = frames[key]
        with column, st.container(border=True):
            st.markdown("**" + md_escape(labels[key]) + "**")
            if sample_id not in frame.index:
                st.caption("no record of this sample")
                continue
            rec = frame.loc[sample_id]
            mark = {True: "correct", False: "wrong"}.get(rec["correct"], "no verdict")
            st.text(
                f"verdict: {rec['verdict'] or '-'} ({mark})\nROUGE-L: {_fmt(rec['rouge_l'])}   CSS: {_fmt(rec['css'])}"
            )
            if rec["error"]:
                st.text("error: " + str(rec["error"]))
            st.text(rec["response"] if rec["response"] is not None else "(no response)")
