"""Altair charts of the detector tab, built from :mod:`harness.report.curves` (no Streamlit here).

Every chart takes plain numbers, so it is testable on its own; model names reach Vega as data values
(drawn as SVG text, never as HTML).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import altair as alt
import numpy as np
import pandas as pd

from spotfake.harness.report.curves import (
    Curve,
    GeneratorBar,
    OperatingPoint,
    ReliabilityBin,
    RobustnessPoint,
)

SCHEME: Literal["category10"] = "category10"
"""A categorical palette whose colours stay apart (the theme's default nominal colours are close blues)."""
LEGEND = alt.Legend(orient="bottom", columns=2, labelLimit=0)
"""Model legend of the half-width charts: under the chart, in full (run labels ``model (source, origin)``
are long and the default legend cuts them off)."""
WIDE_LEGEND = alt.Legend(labelLimit=0)
"""Model legend of the full-width charts: at the right, in full (under the chart it would eat its height)."""
MAX_POINTS = 1500
"""Curves are thinned to at most this many points per model for drawing (the numbers are exact)."""


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= MAX_POINTS:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int))
    return x[keep], y[keep]


def _curve_chart(
    curves: Mapping[str, tuple[Curve, tuple[float, float] | None]], x: str, y: str, diagonal: bool
) -> alt.LayerChart:
    lines, dots = [], []
    for model, (curve, point) in curves.items():
        cx, cy = _thin(curve.x, curve.y)
        lines.append(pd.DataFrame({x: cx, y: cy, "model": model, "i": np.arange(len(cx))}))
        if point is not None:
            dots.append({x: point[0], y: point[1], "model": model})
    data = pd.concat(lines, ignore_index=True)
    scale = alt.Scale(domain=[0, 1])
    line = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X(f"{x}:Q", scale=scale),
            y=alt.Y(f"{y}:Q", scale=scale),
            color=alt.Color("model:N", scale=alt.Scale(scheme=SCHEME), legend=LEGEND),
            order="i:Q",
        )
    )
    layers: list[alt.Chart] = [line]
    if dots:
        layers.append(
            alt.Chart(pd.DataFrame(dots))
            .mark_point(size=90, filled=True, stroke="black")
            .encode(
                x=f"{x}:Q",
                y=f"{y}:Q",
                color=alt.Color("model:N", scale=alt.Scale(scheme=SCHEME), legend=LEGEND),
                tooltip=["model:N", f"{x}:Q", f"{y}:Q"],
            )
        )
    if diagonal:
        layers.append(
            alt.Chart(pd.DataFrame({x: [0, 1], y: [0, 1]}))
            .mark_line(strokeDash=[4, 4], color="grey")
            .encode(x=f"{x}:Q", y=f"{y}:Q")
        )
    return alt.layer(*layers).properties(height=340)


def roc_chart(curves: Mapping[str, tuple[Curve, OperatingPoint | None]]) -> alt.LayerChart:
    """ROC curves (x = FPR, y = TPR), the operating point of the chosen threshold as a dot."""
    data = {m: (c, None if op is None else (op.fpr, op.tpr)) for m, (c, op) in curves.items()}
    chart = _curve_chart(data, "false positive rate", "true positive rate", diagonal=True)
    return chart.properties(title="ROC (dot: chosen threshold)")


def pr_chart(curves: Mapping[str, tuple[Curve, OperatingPoint | None]]) -> alt.LayerChart:
    """Precision-recall curves (fake = positive) with the operating point."""
    data = {
        m: (c, None if op is None or op.precision is None else (op.tpr, op.precision))
        for m, (c, op) in curves.items()
    }
    return _curve_chart(data, "recall", "precision", diagonal=False).properties(
        title="Precision-recall (dot: chosen threshold)"
    )


def histogram_chart(
    edges: np.ndarray, real: np.ndarray, fake: np.ndarray, threshold: float
) -> alt.LayerChart:
    """Overlaid p(fake) histograms of real and fake samples, the threshold as a rule."""
    rows = [
        {"from": float(edges[i]), "to": float(edges[i + 1]), "label": label, "samples": int(counts[i])}
        for label, counts in (("real", real), ("fake", fake))
        for i in range(len(counts))
    ]
    bars = (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar(opacity=0.55)
        .encode(
            x=alt.X("from:Q", title="p(fake)", scale=alt.Scale(domain=[0, 1])),
            x2="to:Q",
            y=alt.Y("samples:Q", stack=None),
            y2=alt.datum(0),
            color=alt.Color(
                "label:N", scale=alt.Scale(domain=["real", "fake"], range=["#1f77b4", "#d62728"])
            ),
            tooltip=["label:N", "from:Q", "to:Q", "samples:Q"],
        )
    )
    rule = alt.Chart(pd.DataFrame({"t": [threshold]})).mark_rule(strokeDash=[4, 4]).encode(x="t:Q")
    return alt.layer(bars, rule).properties(height=300, title="Scores of real and fake samples")


def reliability_chart(bins: Mapping[str, Sequence[ReliabilityBin]]) -> alt.LayerChart:
    """Share of fakes against mean p(fake) per bin, per model; the diagonal is perfect calibration."""
    rows = [
        {"mean p(fake)": b.mean_score, "share of fakes": b.fake_rate, "samples": b.count, "model": model}
        for model, of_model in bins.items()
        for b in of_model
        if b.count
    ]
    scale = alt.Scale(domain=[0, 1])
    lines = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("mean p(fake):Q", scale=scale),
            y=alt.Y("share of fakes:Q", scale=scale),
            color=alt.Color("model:N", scale=alt.Scale(scheme=SCHEME), legend=LEGEND),
            tooltip=["model:N", "mean p(fake):Q", "share of fakes:Q", "samples:Q"],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"mean p(fake)": [0, 1], "share of fakes": [0, 1]}))
        .mark_line(strokeDash=[4, 4], color="grey")
        .encode(x="mean p(fake):Q", y="share of fakes:Q")
    )
    return alt.layer(diagonal, lines).properties(height=340, title="Reliability (15 equal-width bins)")


def robustness_chart(
    points: Sequence[RobustnessPoint], label: str, axis_title: str, *, reverse: bool = False
) -> alt.LayerChart:
    """One perturbation: metric vs strength, a line per model, its CI as a band, its clean value dashed.

    ``reverse`` draws strengths right to left (quality axes: harsher to the right)."""
    swept = pd.DataFrame(
        [
            {"model": p.model, "strength": p.strength, label: p.value, "low": p.low, "high": p.high}
            for p in points
            if p.perturbation != "clean" and p.strength is not None and p.value is not None
        ]
    )
    clean = pd.DataFrame(
        [
            {"model": p.model, label: p.value}
            for p in points
            if p.perturbation == "clean" and p.value is not None
        ]
    )
    models = sorted(set(swept["model"]))
    # the legend is merged from every layer and took the band's opacity (every swatch pale): drawn opaque
    legend = alt.Legend(labelLimit=0, symbolOpacity=1)
    color = alt.Color("model:N", scale=alt.Scale(domain=models, scheme=SCHEME), legend=legend)
    x = alt.X("strength:Q", title=axis_title, scale=alt.Scale(zero=False, reverse=reverse))
    band = (
        alt.Chart(swept.dropna(subset=["low", "high"]))
        .mark_area(opacity=0.18)
        .encode(x=x, y=alt.Y("low:Q", title=label), y2="high:Q", color=color)
    )
    line = (
        alt.Chart(swept)
        .mark_line(point=True)
        .encode(
            x=x,
            y=f"{label}:Q",
            color=color,
            tooltip=["model:N", "strength:Q", f"{label}:Q", "low:Q", "high:Q"],
        )
    )
    layers: list[alt.Chart] = [band, line]
    clean = clean[clean["model"].isin(models)] if not clean.empty else clean
    if not clean.empty:
        layers.append(alt.Chart(clean).mark_rule(strokeDash=[5, 4]).encode(y=f"{label}:Q", color=color))
    return alt.layer(*layers).properties(
        height=320, title=f"{label} vs {axis_title} (dashed: clean; band: 95% CI)"
    )


PROPORTIONS = ("acc", "acc_real", "acc_fake")
"""Metrics that are a share of a group's samples: their bars get a Wilson 95% interval."""


def wilson(value: float | None, n: int) -> tuple[float | None, float | None]:
    """The Wilson 95% interval of a proportion ``value`` of ``n`` samples (scipy), or (None, None)."""
    if value is None or n <= 0:
        return None, None
    from scipy.stats import binomtest

    interval = binomtest(round(value * n), n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def generator_chart(
    bars: Mapping[str, Sequence[GeneratorBar]], label: str, field: str, metric: str = ""
) -> alt.LayerChart:
    """Grouped bars per group of ``field`` and model; held-out groups faded and named as such; a tick at
    every value so that a 0.00 bar is seen, and Wilson 95% intervals for proportions (``metric`` in
    :data:`PROPORTIONS`)."""
    rows = []
    for model, of_model in bars.items():
        for b in of_model:
            shown = b.group if b.status in (None, "real") else f"{b.group} ({b.status})"
            low, high = wilson(b.value, b.n) if metric in PROPORTIONS else (None, None)
            rows.append(
                {
                    "group": shown,
                    "status": b.status or "unknown",
                    "model": model,
                    label: b.value,
                    "low": low,
                    "high": high,
                    "n": b.n,
                }
            )
    data = pd.DataFrame(rows)
    order = {"real": 0, "seen": 1, "unknown": 1, "held-out": 2}
    groups = sorted(
        set(data["group"]), key=lambda g: (order[data.loc[data["group"] == g, "status"].iloc[0]], g)
    )
    base = alt.Chart(data).encode(
        x=alt.X("group:N", sort=groups, title=field, axis=alt.Axis(labelAngle=0)),
        xOffset="model:N",
        color=alt.Color("model:N", scale=alt.Scale(scheme=SCHEME), legend=WIDE_LEGEND),
        tooltip=["model:N", "group:N", "status:N", f"{label}:Q", "low:Q", "high:Q", "n:Q"],
    )
    # a condition, not a scale: the group names say "(held-out)", no legend is needed
    faded = alt.condition(alt.datum.status == "held-out", alt.value(0.45), alt.value(1.0))
    y = alt.Y(f"{label}:Q", title=label, scale=alt.Scale(domain=[0, 1]))
    layers = [
        base.mark_bar().encode(y=y, opacity=faded),
        base.mark_tick(thickness=2, size=14).encode(y=y),  # a 0.00 bar is a line at zero, never nothing
    ]
    if data["low"].notna().any():
        rule = base.mark_rule().encode(y=alt.Y("low:Q", title=label), y2="high:Q", color=alt.value("black"))
        layers.append(rule)  # the channel, not the mark property: the base's model colour would win
    note = "faded: held out in training" + ("; lines: Wilson 95% intervals" if len(layers) > 2 else "")
    return alt.layer(*layers).properties(height=320, title=f"{label} per {field} ({note})")
