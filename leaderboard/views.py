"""What the app shows, built from frames without Streamlit: the table, the charts, safe text.

Kept apart from ``app.py`` so that each view is a pure function a test can call.
"""

from __future__ import annotations

import math
import re
from typing import Literal

import altair as alt
import pandas as pd

from leaderboard.data import KIND_LABELS, LOWER_IS_BETTER, ORIGIN_LABELS, SOURCES, metric_label

SOURCE_COLOURS = {"reproduced": "#1f77b4", "reported": "#9a9a9a", "submitted": "#2ca02c"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^%@])")


def md_escape(text: object) -> str:
    """Make untrusted text (model names, ids, refusal reasons) show literally inside Streamlit markdown:
    every markdown-active character is backslash-escaped, so no link, image, colour or HTML can form."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def format_ci(low: float, high: float) -> str:
    """``[0.871, 0.912]``, or an empty string when the interval is unknown (reported rows)."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return ""
    return f"[{low:.3f}, {high:.3f}]"


def display_table(frame: pd.DataFrame, metrics: list[str], *, show_ci: bool = True) -> pd.DataFrame:
    """The leaderboard table: one row per result, the first metric best-first, CIs as text columns.

    Columns: Model, Kind, Source, From, n, then each metric (number) followed by its 95% CI (text) when
    ``show_ci``; Reference and Notes when reported rows are shown.
    """
    out = pd.DataFrame(
        {
            "Model": frame["model"],
            "Kind": frame["kind"].map(lambda k: KIND_LABELS.get(k, k)),
            "Source": frame["source"],
            "From": frame["origin"].map(lambda o: ORIGIN_LABELS.get(o, o)),
            "n": frame["n"],
        }
    )
    for m in metrics:
        out[metric_label(m)] = frame[m]
        if show_ci and f"{m}_lo" in frame:
            out[f"{metric_label(m)} 95% CI"] = [
                format_ci(lo, hi) for lo, hi in zip(frame[f"{m}_lo"], frame[f"{m}_hi"], strict=True)
            ]
    if (frame["source"] == "reported").any():
        out["Reference"] = [
            f"{c}, table {t}" if c else "" for c, t in zip(frame["citation"], frame["table"], strict=True)
        ]
        out["Notes"] = frame["notes"]
    if metrics:
        first = metric_label(metrics[0])
        ascending = metrics[0] in LOWER_IS_BETTER
        out = out.sort_values(first, ascending=ascending, na_position="last", kind="stable")
    return out.reset_index(drop=True)


def _source_scale() -> alt.Scale:
    return alt.Scale(domain=list(SOURCES), range=[SOURCE_COLOURS[s] for s in SOURCES])


def row_labels(frame: pd.DataFrame) -> pd.Series:
    """``model · source · local`` labels, unique within the frame (a number is added to repeats)."""
    base = [
        f"{m} · {s}" + (" · local" if o == "local" else "")
        for m, s, o in zip(frame["model"], frame["source"], frame["origin"], strict=True)
    ]
    seen: dict[str, int] = {}
    labels = []
    for b in base:
        seen[b] = seen.get(b, 0) + 1
        labels.append(b if seen[b] == 1 else f"{b} ({seen[b]})")
    return pd.Series(labels, index=frame.index)


def bar_chart(frame: pd.DataFrame, metric: str) -> alt.LayerChart:
    """Horizontal bars of one metric per result, best first, with the 95% CI as error bars."""
    data = pd.DataFrame(
        {
            "row": row_labels(frame),
            "model": frame["model"],
            "source": frame["source"],
            "value": frame[metric],
            "low": frame[f"{metric}_lo"],
            "high": frame[f"{metric}_hi"],
        }
    ).dropna(subset=["value"])
    order = data.sort_values("value", ascending=metric in LOWER_IS_BETTER)["row"].tolist()
    title = metric_label(metric)
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    tooltip = [
        alt.Tooltip("model:N", title="model"),
        alt.Tooltip("source:N", title="source"),
        alt.Tooltip("value:Q", title=title, format=".3f"),
        alt.Tooltip("low:Q", title="CI low", format=".3f"),
        alt.Tooltip("high:Q", title="CI high", format=".3f"),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=title, scale=alt.Scale(domainMin=0)),
            y=y,
            color=alt.Color("source:N", scale=_source_scale(), legend=alt.Legend(title="source")),
            tooltip=tooltip,
        )
    )
    errors = (
        alt.Chart(data.dropna(subset=["low", "high"]))
        .mark_errorbar(ticks=True, color="black")
        .encode(x=alt.X("low:Q", title=title), x2="high:Q", y=y)
    )
    return alt.layer(bars, errors).properties(
        height=alt.Step(26), title=f"{title} with 95% confidence intervals"
    )


def heatmap(long: pd.DataFrame, metric: str, by: str) -> alt.LayerChart:
    """Models x groups (categories, generators, ...) coloured by one metric, values written in the cells."""
    data = long[long["metric"] == metric].dropna(subset=["score"]).copy()
    title = metric_label(metric)
    scheme: Literal["viridis", "reds"] = "viridis" if metric not in LOWER_IS_BETTER else "reds"
    base = alt.Chart(data).encode(
        x=alt.X("value:N", title=by, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=320)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("score:Q", title=title, scale=alt.Scale(scheme=scheme, domain=[0, 1])),
        tooltip=[
            alt.Tooltip("model:N"),
            alt.Tooltip("source:N"),
            alt.Tooltip("value:N", title=by),
            alt.Tooltip("score:Q", title=title, format=".3f"),
            alt.Tooltip("n:Q", title="n"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("score:Q", format=".2f"),
        color=alt.condition(alt.datum.score > 0.55, alt.value("black"), alt.value("white")),
    )
    return alt.layer(cells, text).properties(height=alt.Step(30), title=f"{title} by {by}")
