"""What the app shows, built from frames without Streamlit: the ranked table, the charts, safe text.

Kept apart from the tab modules so that each view is a pure function a test can call. Labels and
directions of metrics come from the engine's registry (:mod:`harness.metrics.registry`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import altair as alt
import pandas as pd

from spotfake.harness.metrics.registry import higher_is_better, metric_label
from spotfake.leaderboard.data import KIND_LABELS, RANKED_TIERS, SOURCES

SOURCE_COLOURS = {"reproduced": "#1f77b4", "reported": "#9a9a9a", "submitted": "#2ca02c"}
CHANCE = {"acc": 0.5, "balanced_acc": 0.5, "auc": 0.5}
"""Coin-flip level of metrics that have one on balanced real/fake tasks (drawn on charts)."""
TIED = "tied"
BEST = "best"
WORSE = "worse"
NOT_TESTED = "not tested"
"""What "vs best" says of a ranked row: best; tied (p = ...) or worse (p = ...) by the paired test; worse
(intervals apart) when the 95% intervals do not overlap; not tested (no records, no paired test for the
metric, a category view, or beyond the tests a table runs)."""


def versus_best(tested: bool, p: float | None) -> str:
    """The "vs best" text of a ranked row that is not the best (see :data:`NOT_TESTED`)."""
    from spotfake.leaderboard.stats import format_p

    if not tested:
        return NOT_TESTED
    if p is None:
        return f"{WORSE} (intervals apart)"
    return f"{TIED if p >= 0.05 else WORSE} ({format_p(p)})"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^%@])")
_ARXIV = re.compile(r"arXiv[:\s]*(\d{4}\.\d{4,5})", re.IGNORECASE)


def md_escape(text: object) -> str:
    """Make untrusted text (model names, ids, refusal reasons) show literally inside Streamlit markdown:
    every markdown-active character is backslash-escaped, so no link, image, colour or HTML can form."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_value(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """``0.971 ±0.015`` (half the interval's width), ``0.986`` without an interval, "" without a value."""
    if value is None or _missing(value):
        return ""
    if low is None or high is None or _missing(low) or _missing(high):
        return f"{value:.3f}"
    return f"{value:.3f} ±{(high - low) / 2:.3f}"


def citation_url(citation: str) -> str | None:
    """A link for a citation that names an arXiv identifier (``FakeVLM arXiv 2503.14905``), else None."""
    found = _ARXIV.search(citation or "")
    return f"https://arxiv.org/abs/{found.group(1)}" if found else None


@cache
def _model_links() -> dict[str, str]:
    path = Path(__file__).with_name("model_links.json")
    links = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in links.items() if not k.startswith("_") and v.startswith("https://")}


def model_url(name: str) -> str | None:
    """The paper of a model (or of its architecture: ``npr-demo`` -> NPR), from ``model_links.json``."""
    lowered = name.lower()
    for key, url in _model_links().items():
        if lowered == key or lowered.startswith((key + "-", key + "@")):
            return url
    return None


def ranking_tiers(frame: pd.DataFrame, merge: bool = False) -> pd.Series:
    """Each row's ranking tier: 0 for reproduced runs (and any source not in :data:`RANKED_TIERS`), 1 for
    submissions; all 0 when ``merge``."""
    if merge:
        return pd.Series(0, index=frame.index)
    return frame["source"].map(lambda s: RANKED_TIERS.index(s) if s in RANKED_TIERS else 0).astype(int)


def rank_order(frame: pd.DataFrame, metric: str) -> pd.Series:
    """Competition ranks (1, 2, 2, 4) by ``metric`` in its direction; rows without a value get <NA>."""
    ranks = frame[metric].rank(method="min", ascending=not higher_is_better(metric), na_option="keep")
    return ranks.astype("Int64")


def board_table(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    rank_by: str,
    *,
    show_ci: bool = True,
    tied: Mapping[str, float | None] | None = None,
    merge_tiers: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first screen: one row per result, best first by ``rank_by``.

    Reproduced runs and submissions (self-reported predictions) are ranked apart: the reproduced rows
    first, each tier ranked from 1 with its own best, gap and tie marks; ``merge_tiers`` ranks them
    together. Reported rows (a paper's numbers on its own data) and flagged submissions are listed after
    the ranked rows without a rank or a gap, unless reported rows are the only rows with a value.

    Returns ``(numbers, text)`` of one shape: ``numbers`` holds sortable values (metric columns are floats),
    ``text`` what each cell shows (``0.971 ±0.015``). Columns: Rank, Model, each metric's label (``rank_by``
    first, so that a narrow screen shows the model and its ranking value with its interval), Source,
    "vs best" (``best`` / ``tied`` from the paired test p-values in ``tied``, by row key), Gap (how far
    behind the best in ``rank_by``), n, Kind, Where, Paper (a link for reported rows; a submission's own
    paper, never one looked up by its name), and Code, Licence, About where a submission gave them. A
    submitted row whose name another row of another source has reads ``name · submitted``. Index: row keys.
    """
    tied = tied or {}
    ranked = (frame["source"] != "reported") & (frame.get("flags", "") == "")  # flagged submissions apart
    if not frame.loc[ranked, rank_by].notna().any():
        ranked = frame["source"] == frame["source"]  # only reported rows have values: rank those
    tier = ranking_tiers(frame, merge_tiers)
    ranks = pd.concat(
        [rank_order(frame[ranked & (tier == t)], rank_by) for t in sorted(set(tier[ranked]))] or [pd.Series()]
    ).reindex(frame.index)
    order = frame.assign(_rank=ranks, _unranked=~ranked, _tier=tier).sort_values(
        ["_unranked", "_tier", "_rank", "name"], na_position="last", kind="stable"
    )
    best_of_tier = {
        t: values.iloc[0]
        for t, group in order[~order["_unranked"]].groupby("_tier")
        if len(values := group[rank_by].dropna())
    }
    best_value = order["_tier"].map(best_of_tier).astype(float)
    numbers = pd.DataFrame(index=pd.Index(order["key"], name="key"))
    numbers["Rank"] = order["_rank"].to_numpy()
    numbers["Model"] = _distinct_names(order).to_numpy()
    flagged = order.get("flags", pd.Series("", index=order.index)).astype(bool)
    text = pd.DataFrame(index=numbers.index)
    # the ranking metric right after the model, so a phone's first screen shows both (then the others)
    for m in sorted(metrics, key=lambda name: name != rank_by):
        label = metric_label(m)
        numbers[label] = order[m].to_numpy(dtype=float)
        lows = order[f"{m}_lo"] if show_ci else [None] * len(order)
        highs = order[f"{m}_hi"] if show_ci else [None] * len(order)
        text[label] = [format_value(v, lo, hi) for v, lo, hi in zip(order[m], lows, highs, strict=True)]
    numbers["Source"] = [f"{s} ⚑" if f else s for s, f in zip(order["source"], flagged, strict=True)]
    marks = []
    for key, value, unranked, best in zip(
        order["key"], order[rank_by], order["_unranked"], best_value, strict=True
    ):
        if unranked:
            marks.append("")
        elif not _missing(value) and value == best:
            marks.append(BEST)
        elif _missing(value):
            marks.append("")
        else:
            marks.append(versus_best(key in tied, tied.get(key)))
    numbers["vs best"] = marks
    sign = 1.0 if higher_is_better(rank_by) else -1.0
    gap = (best_value - order[rank_by]) * sign
    numbers["Gap"] = gap.where(~order["_unranked"]).to_numpy(dtype=float)
    numbers["n"] = order["n"].to_numpy()
    numbers["Kind"] = order["kind"].map(lambda k: KIND_LABELS.get(k, k)).to_numpy()
    numbers["Where"] = order["origins"].to_numpy()
    declared = order.get("paper", pd.Series("", index=order.index)).fillna("")
    papers = [
        p if s == "submitted" else model_url(m) or (citation_url(c) if s == "reported" else None) or ""
        for m, c, s, p in zip(
            order.get("model", order["name"]), order["citation"], order["source"], declared, strict=True
        )
    ]
    if any(papers):
        numbers["Paper"] = papers
    for column, field in (("Code", "code"), ("Licence", "licence"), ("About", "description")):
        values = order.get(field, pd.Series("", index=order.index)).fillna("")
        if values.astype(bool).any():
            numbers[column] = values.to_numpy()
    for column in numbers.columns:
        if column not in text.columns:
            text[column] = numbers[column].map(_cell_text)
    text["Gap"] = [("" if _missing(g) else f"{g:.3f}") for g in numbers["Gap"]]
    numbers.attrs["higher_is_better"] = {metric_label(m): higher_is_better(m) for m in metrics}
    return numbers, text[numbers.columns]


def _distinct_names(frame: pd.DataFrame) -> pd.Series:
    """Model names, a submitted row's as ``name · submitted`` where a row of another source has its name
    (a submission named like a reproduced model is never mistaken for it)."""
    names, sources = frame["name"], frame["source"]
    clash = [
        s == "submitted" and bool(((names == n) & (sources != s)).any())
        for n, s in zip(names, sources, strict=True)
    ]
    return names.where(~pd.Series(clash, index=frame.index), names + " · submitted")


def _cell_text(value: object) -> str:
    """A plain cell: "" when missing, whole numbers without a decimal point (ranks, counts)."""
    if _missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def summary_text(metrics: Mapping[str, object], names: Sequence[str]) -> str:
    """``Acc 0.971, F1 0.968`` for the named metrics that have a value (labels from the registry)."""
    shown = []
    for name in names:
        value = metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown.append(f"{metric_label(name)} {value:.3f}")
    return ", ".join(shown)


def _source_scale(present: Sequence[str]) -> alt.Scale:
    domain = [s for s in SOURCES if s in set(present)]
    return alt.Scale(domain=domain, range=[SOURCE_COLOURS[s] for s in domain])


def _row_names(frame: pd.DataFrame) -> pd.Series:
    """Model names for chart rows; ``name · source`` where a name appears more than once."""
    names = frame["name"]
    repeated = names.duplicated(keep=False)
    return names.where(~repeated, names + " · " + frame["source"])


def bar_chart(frame: pd.DataFrame, metric: str, floor: float | None = None) -> alt.LayerChart:
    """Horizontal bars of one metric per result, best first, with 95% intervals where there are any, the
    coin-flip line for metrics that have one, and for explanation metrics the verdict-only ``floor``: what
    a fixed "This is a real/fake image." sentence scores against the references."""
    data = pd.DataFrame(
        {
            "row": _row_names(frame),
            "model": frame["name"],
            "source": frame["source"],
            "value": frame[metric],
            "low": frame[f"{metric}_lo"],
            "high": frame[f"{metric}_hi"],
        }
    ).dropna(subset=["value"])
    data = data.drop_duplicates("row")
    order = data.sort_values("value", ascending=not higher_is_better(metric))["row"].tolist()
    title = metric_label(metric)
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    tooltip = [
        alt.Tooltip("model:N", title="model"),
        alt.Tooltip("source:N", title="source"),
        alt.Tooltip("value:Q", title=title, format=".3f"),
        alt.Tooltip("low:Q", title="95% CI low", format=".3f"),
        alt.Tooltip("high:Q", title="95% CI high", format=".3f"),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=title, scale=alt.Scale(domainMin=0)),
            y=y,
            color=alt.Color(
                "source:N", scale=_source_scale(data["source"].tolist()), legend=alt.Legend(title="source")
            ),
            tooltip=tooltip,
        )
    )
    layers: list[alt.Chart] = [bars]
    with_ci = data.dropna(subset=["low", "high"])
    if len(with_ci):
        layers.append(
            alt.Chart(with_ci)
            .mark_errorbar(ticks=True, color="black")
            .encode(x=alt.X("low:Q", title=title), x2="high:Q", y=y)
        )
    if metric in CHANCE:
        chance = pd.DataFrame({"chance": [CHANCE[metric]], "what": [f"coin flip ({CHANCE[metric]:g})"]})
        layers.append(
            alt.Chart(chance)
            .mark_rule(strokeDash=[4, 4], color="#d62728")
            .encode(x="chance:Q", tooltip=[alt.Tooltip("what:N", title="")])
        )
    if floor is not None:
        line = pd.DataFrame(
            {"floor": [floor], "what": [f"verdict-only floor: a fixed sentence scores {floor:.3f}"]}
        )
        layers.append(
            alt.Chart(line)
            .mark_rule(strokeDash=[2, 2], color="#555", strokeWidth=2)
            .encode(x="floor:Q", tooltip=[alt.Tooltip("what:N", title="")])
        )
    direction = "higher is better" if higher_is_better(metric) else "lower is better"
    caption = "with 95% confidence intervals" if len(with_ci) else "(no confidence intervals on these rows)"
    if floor is not None:
        caption += "; dotted: verdict-only floor"
    return alt.layer(*layers).properties(height=alt.Step(24), title=f"{title} ({direction}) {caption}")


def heatmap(long: pd.DataFrame, metric: str, by: str, held_out: Sequence[str] = ()) -> alt.LayerChart:
    """Models x groups (categories, generators, ...) coloured by one metric, values written in the cells;
    the groups in ``held_out`` (not seen in training) are named ``<group> (held-out)``."""
    data = long[long["metric"] == metric].dropna(subset=["score"]).copy()
    unseen = set(held_out)
    data["value"] = [f"{v} (held-out)" if v in unseen else v for v in data["value"]]
    title = metric_label(metric)
    scheme: Literal["viridis", "reds"] = "viridis" if higher_is_better(metric) else "reds"
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
