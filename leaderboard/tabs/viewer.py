"""The explanation viewer: one sample's image at its own pixels, its prompt, reference and metadata, and
beside it what each chosen model said (verdict coloured right or wrong, p(fake), ROUGE-L, CSS).

Images are enlarged by whole factors with nearest-neighbour sampling (pixel-level artifacts stay visible)
and shown as PNG; untrusted text (responses, ids, metadata) is shown with ``st.text`` or escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.types import Sample
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.loading import judge_scores
from spotfake.leaderboard.tabs.context import HELD_OUT, BoardContext
from spotfake.leaderboard.views import md_escape

SHOW = (
    "all samples",
    "where the models disagree",
    "where any model is wrong",
    "wrong verdict, fluent explanation",
)
FLUENT_CSS = 0.7
"""A wrong verdict whose explanation still scores at least this CSS (or a judge grade of 4-5) is the
"wrong verdict, fluent explanation" case: text that reads well and argues for the wrong answer."""
JUDGED_LOW = "where an explanation is judged low (1-2 of 5)"
"""Offered once a chosen run has judge grades (``spotfake judge``)."""
MAX_MODELS = 4
TARGET_PX = 256
"""The default zoom enlarges small images to about this many pixels on their longer side."""


def truth(value: object) -> bool | None:
    """A record's ``correct`` as True / False, or None when there is no verdict (None or NaN in a frame)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def explains(entry: lb.RunEntry) -> bool:
    """Whether a run explains (an LMM, :func:`harness.model_kind.explains`) in words that were scored
    against references (ROUGE-L has a value)."""
    from spotfake.harness.model_kind import explains as kind_explains

    return kind_explains(entry.kind) and entry.results.get("metrics", {}).get("rouge_l") is not None


def default_models(runs: list[lb.RunEntry]) -> list[str]:
    """Up to three runs that explain (best ROUGE-L first); only when none explains, runs that classify."""
    clean = [e for e in runs if not e.perturbation]
    talking = sorted(
        (e for e in clean if explains(e)), key=lambda e: -float(e.results["metrics"].get("rouge_l") or 0.0)
    )
    if talking:
        return [e.key for e in talking][:3]
    rest = [e for e in clean if e.kind != "baseline"]
    return list(dict.fromkeys(e.key for e in [*rest, *runs]))[:3]  # each run once


def kept_ids(
    frames: dict[str, pd.DataFrame],
    ids: list[str],
    show: str,
    grades: dict[str, dict[str, int]] | None = None,
) -> list[str]:
    """The sample ids that the "Show" choice keeps (``grades``: run key -> sample id -> judge grade)."""
    if show == SHOW[0]:
        return ids
    if show == JUDGED_LOW:
        return [i for i in ids if any(g.get(i, 5) <= 2 for g in (grades or {}).values())]
    if show == SHOW[3]:
        return [
            i
            for i in ids
            if any(fluent_but_wrong(fr, i, (grades or {}).get(k, {})) for k, fr in frames.items())
        ]
    keep = []
    for i in ids:
        verdicts = [fr.at[i, "verdict"] if i in fr.index else None for fr in frames.values()]
        wrong = [truth(fr.at[i, "correct"]) is not True if i in fr.index else True for fr in frames.values()]
        if (show == SHOW[1] and len(set(verdicts)) > 1) or (show == SHOW[2] and any(wrong)):
            keep.append(i)
    return keep


def fluent_but_wrong(frame: pd.DataFrame, sample_id: str, grades: dict[str, int]) -> bool:
    """Whether a run's verdict on the sample is wrong while its explanation scores CSS >= FLUENT_CSS or a
    judge grade of 4 or 5."""
    if sample_id not in frame.index or truth(frame.at[sample_id, "correct"]) is not False:
        return False
    css = frame.at[sample_id, "css"] if "css" in frame.columns else None
    fluent = css is not None and not (isinstance(css, float) and math.isnan(css)) and float(css) >= FLUENT_CSS
    return fluent or grades.get(sample_id, 0) >= 4


def _step(key: str, ids: list[str], delta: int) -> None:
    current = st.session_state.get(key)
    at = ids.index(current) if current in ids else 0
    st.session_state[key] = ids[(at + delta) % len(ids)]


ZOOMS = (1, 2, 3, 4, 6, 8)
MAX_SHOWN_PX = 2048
"""No zoom makes an image wider or taller than this (an 8x zoom of a large photograph would not fit)."""


def show_images(paths: Sequence[Path], sample_id: str, zoom_key: str) -> bool:
    """The sample's images at one whole-number zoom (nearest neighbour); False when none can be shown."""
    from PIL import Image

    from spotfake.harness.images import load_image

    images = []
    for path in paths:
        try:
            images.append(load_image(path, sample_id=sample_id))
        except Exception as exc:  # a missing or hostile image is a caption, never a crash
            st.caption(md_escape(str(exc).splitlines()[0] if str(exc) else exc))
    if not images:
        return False
    side = max(max(image.size) for image in images)
    options = [z for z in ZOOMS if side * z <= MAX_SHOWN_PX] or [1]
    auto = max(1, TARGET_PX // max(side, 1))
    zoom = st.select_slider(
        "Zoom", options=options, value=min(options, key=lambda z: abs(z - auto)), key=zoom_key
    )
    zoom = zoom if zoom in options else options[-1]
    for image in images:
        width, height = image.size
        big = image.resize((width * zoom, height * zoom), Image.Resampling.NEAREST) if zoom > 1 else image
        st.image(big, output_format="PNG", width=big.width, caption=f"{width}x{height} px, shown at {zoom}x")
    return True


def _sample_panel(sample: Sample | None, problem: str, row: pd.Series, zoom_key: str) -> None:
    left, right = st.columns([1, 2])
    with left:
        shown = sample is not None and show_images([Path(p) for p in sample.images], sample.id, zoom_key)
        if not shown:
            st.caption("No image at hand" + (" (the task's data was not found)." if sample is None else "."))
    with right:
        metadata = dict(sample.metadata) if sample is not None else dict(row.get("metadata") or {})
        facts = [f"label: {row['label'] or '-'}", f"category: {row['category'] or '-'}"]
        facts += [f"{k}: {v}" for k, v in sorted(metadata.items())]
        st.text("    ".join(facts))
        if sample is not None:
            st.caption("Prompt")
            st.text(sample.prompt)
            for n, ref in enumerate(sample.references, start=1):
                st.caption("Reference" + (f" {n}" if len(sample.references) > 1 else ""))
                st.text(ref)
            if not sample.references:
                st.caption("This sample has no reference explanation.")
        else:
            st.caption(
                "Prompt and reference need the task's data (start the board with --data-root): "
                + md_escape(problem or "not loaded")
            )


def _answer(label: str, rec: pd.Series | None, grade: int | None = None) -> None:
    with st.container(border=True):
        st.markdown("**" + md_escape(label) + "**")
        if rec is None:
            st.caption("no record of this sample")
            return
        verdict = md_escape(rec["verdict"] or "no verdict")
        right = truth(rec["correct"])
        if right is True:
            st.markdown(f":green[**{verdict}** · right]")
        elif right is False:
            st.markdown(f":red[**{verdict}** · wrong]")
        else:
            st.markdown(f":gray[**{verdict}**]")
        judged = f"   judge: {grade}/5" if grade is not None else ""
        st.text(
            f"p(fake): {_fmt(rec['score'])}   ROUGE-L: {_fmt(rec['rouge_l'])}   CSS: {_fmt(rec['css'])}{judged}"
        )
        if rec["error"]:
            st.text("error: " + str(rec["error"]))
        st.text(rec["response"] if rec["response"] is not None else "(no response)")


def render(ctx: BoardContext) -> None:
    """Pick models and a sample (or step through them); show what each model said about it."""
    if ctx.labels_held_out:
        st.info(HELD_OUT)
        return
    f = ctx.filters
    runs = ctx.runs_with_samples
    if f is None or not runs:
        st.info(
            "No run with per-sample records for this task (reported rows have none). Create one with "
            "`spotfake run --model NAME --task TASK`."
        )
        return
    task = f.task
    labels = {e.key: e.label for e in runs}
    models_key = f"explain_models:{task}"
    if models_key in st.session_state:  # runs that went away since (filters, deleted folders)
        st.session_state[models_key] = [k for k in st.session_state[models_key] if k in labels][:MAX_MODELS]
    chosen = st.multiselect(
        "Models",
        list(labels),
        default=None if models_key in st.session_state else default_models(runs),
        format_func=labels.__getitem__,
        key=models_key,
        max_selections=MAX_MODELS,
    )
    if not chosen:
        st.info("Choose one or more models.")
        return
    by_key = {e.key: e for e in runs}
    frames = {}
    for key in chosen:
        try:
            frames[key] = ctx.samples(by_key[key])
        except SpotfakeError as exc:
            st.error(md_escape(exc))
            return
    first = frames[chosen[0]]
    ids = list(first.index)
    if f.group is not None:
        field, value = f.group
        ids = [i for i in ids if _value_of(first.loc[i], field) == value]
    grades = {key: judge_scores(by_key[key]) for key in chosen}
    choices = (*SHOW, JUDGED_LOW) if any(grades.values()) else SHOW
    show_key = f"explain_show:{task}"
    if st.session_state.get(show_key) not in (None, *choices):
        del st.session_state[show_key]
    show = st.radio("Show", choices, horizontal=True, key=show_key) or SHOW[0]
    ids = kept_ids(frames, ids, show, grades)
    if not ids:
        st.info("No sample matches.")
        return
    sample_key = f"explain_sample:{task}"
    if st.session_state.get(sample_key) not in ids:
        st.session_state[sample_key] = ids[0]
    back, pick, forward = st.columns([1, 6, 1], vertical_alignment="bottom")
    back.button("← previous", on_click=_step, args=(sample_key, ids, -1), key=f"explain_prev:{task}")
    forward.button("next →", on_click=_step, args=(sample_key, ids, 1), key=f"explain_next:{task}")
    sample_id = pick.selectbox(f"Sample ({len(ids)})", ids, key=sample_key)
    if sample_id is None:
        return
    samples, problem = ctx.task_samples(task)
    sample = samples.get(sample_id) if samples else None
    st.text(f"sample {ids.index(sample_id) + 1} of {len(ids)}    id: {sample_id}")
    _sample_panel(sample, problem, first.loc[sample_id], f"explain_zoom:{task}")
    for column, key in zip(st.columns(len(chosen)), chosen, strict=True):
        with column:
            frame = frames[key]
            _answer(
                labels[key],
                frame.loc[sample_id] if sample_id in frame.index else None,
                grades[key].get(sample_id),
            )


def _value_of(row: pd.Series, field: str) -> str | None:
    """A sample's category or metadata field, as text (None when it has none)."""
    value = row.get("category") if field == "category" else (row.get("metadata") or {}).get(field)
    return None if value is None else str(value)
