"""Report figures as PNG and SVG files (matplotlib, no display): the leaderboard's detector views on paper.

Per task: ROC and PR curves with the operating point marked, a reliability diagram, score histograms
(real vs fake), per-generator bars (seen / held-out told apart when the task says) and, for every
perturbation swept, metric-vs-strength curves with CI bands. Clean runs draw the ROC/PR/reliability and
histogram figures; perturbed runs draw the robustness curves.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spotfake.harness.perturb import STRENGTH_LABELS, STRONGER_WHEN_LOWER
from spotfake.harness.report import curves
from spotfake.harness.report.runs import RunData
from spotfake.harness.report.tables import plain_text

FORMATS = ("png", "svg")
HELD_OUT_HATCH = "//"
PLOT_LIMIT = 1e9
"""Values and strengths beyond this (a broken or hostile results.json) are left out of figures, which
matplotlib cannot place; the tables still show them."""
MAX_INCHES = 80.0
"""The widest figure drawn (12,000 pixels at 150 dpi), whatever the number of generators in a results file:
the image's memory stays bounded."""
HISTOGRAM_COLUMNS = 6
"""Score histograms of many runs wrap into rows of this many panels."""


def _plottable(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and abs(value) <= PLOT_LIMIT


MAX_PART = 60
"""A file name keeps at most this many characters of each name in it (file systems refuse names over
255 bytes)."""


def _slug(text: str) -> str:
    """A file name part from ``text``: itself when it is plain and short, else its plain start and a hash
    of all of it (two tasks whose names differ only in other characters never share a file)."""
    slug = re.sub(r"[^A-Za-z0-9.@+-]+", "_", text).strip("_") or "x"
    if slug == text and len(slug) <= MAX_PART:
        return slug
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug[:MAX_PART]}-{digest}"


def _save(fig: Figure, out_dir: Path, parts: Sequence[str], formats: Sequence[str]) -> list[Path]:
    """Write ``fig`` as ``<part>-<part>-....<fmt>`` for each format."""
    stem = "-".join(_slug(part) for part in parts)
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(path, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata)
        paths.append(path)
    return paths


def _threshold(run: RunData) -> float:
    value = run.results.get("scoring", {}).get("threshold", 0.5)
    return float(value) if isinstance(value, (int, float)) else 0.5


Scored = tuple[RunData, np.ndarray, np.ndarray]
"""A run with its labels and scores, both classes present."""


def _scored(runs: Sequence[RunData]) -> list[Scored]:
    out = []
    for run in runs:
        labels, scores = run.scored()
        if labels.size and 0 < labels.sum() < labels.size:
            out.append((run, labels, scores))
    return out


def _square() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(4.2, 4.0))
    return fig, fig.subplots()


def roc_figure(scored: Sequence[Scored], task: str) -> Figure:
    """ROC curves, one per run with scores, the threshold's operating point as a dot."""
    fig, ax = _square()
    for run, labels, scores in scored:
        roc = curves.roc_points(labels, scores)
        op = curves.operating_point(labels, scores, _threshold(run))
        assert roc is not None and op is not None
        (line,) = ax.plot(roc.x, roc.y, lw=1.5, label=plain_text(run.name))
        ax.plot([op.fpr], [op.tpr], "o", color=line.get_color(), ms=5)
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set(xlabel="False positive rate (reals flagged)", ylabel="True positive rate (fakes caught)")
    ax.set_title(f"ROC on {task} (dot: threshold)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def pr_figure(scored: Sequence[Scored], task: str) -> Figure:
    """Precision-recall curves (fake = positive) with the operating point."""
    fig, ax = _square()
    for run, labels, scores in scored:
        pr = curves.pr_points(labels, scores)
        op = curves.operating_point(labels, scores, _threshold(run))
        assert pr is not None and op is not None
        (line,) = ax.plot(pr.x, pr.y, lw=1.5, label=plain_text(run.name), drawstyle="steps-post")
        if op.precision is not None:
            ax.plot([op.tpr], [op.precision], "o", color=line.get_color(), ms=5)
    ax.set(xlabel="Recall (fakes caught)", ylabel="Precision", ylim=(0, 1.02))
    ax.set_title(f"Precision-recall on {task} (dot: threshold)", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def reliability_figure(scored: Sequence[Scored], task: str) -> Figure:
    """Share of fakes against mean p(fake) per bin (15 equal-width bins); the diagonal is calibration."""
    fig, ax = _square()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="calibrated")
    for run, labels, scores in scored:
        bins = [b for b in curves.reliability_bins(labels, scores) if b.count]
        x = np.array([b.mean_score for b in bins], dtype=float)
        y = np.array([b.fake_rate for b in bins], dtype=float)
        ax.plot(x, y, "o-", ms=3, lw=1.2, label=plain_text(run.name))
    ax.set(xlabel="Mean p(fake) in bin", ylabel="Share of fakes in bin", xlim=(0, 1), ylim=(0, 1))
    ax.set_title(f"Reliability on {task} ({curves.RELIABILITY_BINS} bins)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def histogram_figure(scored: Sequence[Scored], task: str) -> Figure:
    """p(fake) histograms of real and fake samples, one panel per run (rows of six); the threshold dashed
    (at the edge when it lies outside [0, 1])."""
    columns = min(len(scored), HISTOGRAM_COLUMNS)
    rows = math.ceil(len(scored) / columns)
    fig = Figure(figsize=(3.2 * columns, 2.8 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns, sharey=True, squeeze=False).ravel())
    for ax, (run, labels, scores) in zip(axes, scored, strict=False):
        edges, real, fake = curves.score_histogram(labels, scores)
        ax.stairs(real, edges, fill=True, alpha=0.5, label="real")
        ax.stairs(fake, edges, fill=True, alpha=0.5, label="fake")
        ax.axvline(float(np.clip(_threshold(run), 0.0, 1.0)), color="black", ls="--", lw=1)
        ax.set_title(plain_text(run.name), fontsize=9)
        ax.set_xlabel("p(fake)")
    for ax in axes[len(scored) :]:
        ax.set_visible(False)
    axes[0].set_ylabel("samples")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Scores on {task}", fontsize=10)
    return fig


def robustness_figures(runs: Sequence[RunData], metric: str, label: str) -> dict[str, Figure]:
    """Per perturbation: metric vs strength, one line per model with its CI band, clean value dashed.

    Presets and chains have no strength to draw against: they are in the tables, not in figures."""
    points = curves.robustness_points([r.results for r in runs], metric)
    points = [p for p in points if _plottable(p.value) and (p.strength is None or _plottable(p.strength))]
    clean = {p.model: p for p in points if p.perturbation == "clean"}
    figures: dict[str, Figure] = {}
    for name in sorted({p.perturbation for p in points if p.strength is not None}):
        fig = Figure(figsize=(4.6, 3.6))
        ax = fig.subplots()
        for model in sorted({p.model for p in points if p.perturbation == name}):
            pts = [
                p for p in points if p.perturbation == name and p.model == model and p.strength is not None
            ]
            if not pts:
                continue
            x = np.array([p.strength for p in pts], dtype=float)
            y = np.array([p.value for p in pts], dtype=float)
            (line,) = ax.plot(x, y, "o-", lw=1.5, ms=4, label=plain_text(model))
            if all(_plottable(p.low) and _plottable(p.high) for p in pts):
                low = np.array([p.low for p in pts], dtype=float)
                high = np.array([p.high for p in pts], dtype=float)
                ax.fill_between(x, low, high, color=line.get_color(), alpha=0.18, lw=0)
            if model in clean:
                ax.axhline(clean[model].value, color=line.get_color(), ls="--", lw=1)  # type: ignore[arg-type]
        if name in STRONGER_WHEN_LOWER:
            ax.invert_xaxis()
        shown = plain_text(name)
        ax.set(xlabel=STRENGTH_LABELS.get(name, f"{shown} strength"), ylabel=label)
        ax.set_title(f"{label} vs {shown} (dashed: clean; band: 95% CI)", fontsize=10)
        ax.legend(fontsize=7)
        figures[name] = fig
    return figures


def generator_figure(
    runs: Sequence[RunData],
    metric: str,
    label: str,
    held_out: Mapping[str, Sequence[str]],
    field: str = "generator",
) -> Figure | None:
    """Grouped bars of ``metric`` per generator and model; held-out generators hatched and labelled."""
    rows = [(run, curves.generator_bars(run.results, metric, field, held_out)) for run in runs]
    rows = [(run, bars) for run, bars in rows if bars]
    if not rows:
        return None
    status = {b.group: b.status for _, bars in rows for b in bars}
    order = {"real": 0, "seen": 1, None: 1, "held-out": 2}
    groups = sorted(status, key=lambda g: (order[status[g]], g))
    fig = Figure(figsize=(min(MAX_INCHES, 1.2 + 0.9 * len(groups) * max(1, len(rows)) / 2), 3.4))
    ax = fig.subplots()
    width = 0.8 / len(rows)
    for i, (run, bars) in enumerate(rows):
        by_group = {b.group: b.value for b in bars if _plottable(b.value)}
        x = np.arange(len(groups)) + (i - (len(rows) - 1) / 2) * width
        values = np.array([by_group.get(g) for g in groups], dtype=float)  # None -> NaN: no bar
        hatches = [HELD_OUT_HATCH if status.get(g) == "held-out" else "" for g in groups]
        container = ax.bar(x, values, width, label=plain_text(run.name))
        for patch, hatch in zip(container.patches, hatches, strict=True):
            patch.set_hatch(hatch)
        ax.bar_label(container, labels=["" if np.isnan(v) else f"{v:.2f}" for v in values], fontsize=6)
    ticks = [
        plain_text(g) if status.get(g) in (None, "real") else f"{plain_text(g)}\n({status[g]})"
        for g in groups
    ]
    ax.set_xticks(np.arange(len(groups)), ticks, fontsize=8)
    ax.set(ylabel=label, ylim=(0, 1.05))
    ax.set_title(f"{label} per {field} (hatched: held out)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def write_figures(
    runs: Sequence[RunData],
    out_dir: Path,
    *,
    metric_labels: Mapping[str, str],
    held_out: Mapping[str, Mapping[str, Sequence[str]]],
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Every figure of every task into ``out_dir``; returns the files written. Names are plain text: a
    ``$`` in a model or task name is never read as mathtext, a control character is drawn as U+FFFD, a
    character the font lacks as its box (without a warning per glyph), and file names are capped."""
    import warnings

    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        return _write_figures(runs, out_dir, metric_labels, held_out, formats)


def _write_figures(
    runs: Sequence[RunData],
    out_dir: Path,
    metric_labels: Mapping[str, str],
    held_out: Mapping[str, Mapping[str, Sequence[str]]],
    formats: Sequence[str],
) -> list[Path]:
    from spotfake.harness.io import output_folder

    output_folder(out_dir, "--figures")
    written: list[Path] = []
    for task in dict.fromkeys(r.task for r in runs):
        of_task = [r for r in runs if r.task == task]
        clean = [r for r in of_task if r.perturbation is None and not r.is_reported]
        scored = _scored(clean)  # runs with both classes scored; none, no curve figures
        curve_figures = (
            ("roc", roc_figure),
            ("pr", pr_figure),
            ("reliability", reliability_figure),
            ("scores", histogram_figure),
        )
        for kind, make in curve_figures if scored else ():
            written += _save(make(scored, plain_text(task)), out_dir, (task, kind), formats)
        for metric, label in metric_labels.items():
            for name, fig in robustness_figures(of_task, metric, label).items():
                written += _save(fig, out_dir, (task, "robustness", metric, name), formats)
        if "acc" in metric_labels or not metric_labels:
            bars = generator_figure(clean, "acc", metric_labels.get("acc", "Acc"), held_out.get(task, {}))
            if bars is not None:
                written += _save(bars, out_dir, (task, "generators", "acc"), formats)
    return written
