"""Paper-ready result tables: value and CI per metric, best value in bold, reported rows marked.

One :class:`Table` per task, built from results alone, rendered as Markdown, LaTeX (booktabs) or CSV.
Metric labels and directions come from the metric registry; the best value of a column is the best at
the shown precision (ties are all bold); reported rows (copied from a paper) are marked with a dagger.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity

DIGITS = 3
REPORTED_MARK = "†"
REPORTED_NOTE = "reported in the publication (not reproduced here)"


@dataclass(frozen=True)
class Cell:
    """One value with its interval (None = not applicable) and whether it is the column's best."""

    value: float | None
    low: float | None = None
    high: float | None = None
    best: bool = False


@dataclass(frozen=True)
class Row:
    """One result: the row's name, its source and perturbation, and one cell per column."""

    name: str
    source: str
    perturbation: str | None
    cells: tuple[Cell, ...]

    @property
    def reported(self) -> bool:
        return self.source == "reported"


@dataclass(frozen=True)
class Table:
    """A task's table: metric names and labels (columns) and rows."""

    task: str
    metrics: tuple[str, ...]
    labels: tuple[str, ...]
    rows: tuple[Row, ...]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(float(value)) else float(value)


def default_metrics(results: Sequence[Results]) -> list[str]:
    """Registered metrics with a value in at least one result, in the order results list them."""
    from spotfake.harness.metrics import metric_names

    known = set(metric_names())
    ordered = dict.fromkeys(k for r in results for k, v in r["metrics"].items() if v is not None)
    return [m for m in ordered if m in known]


def build_tables(results: Sequence[Results], metrics: Sequence[str] | None = None) -> list[Table]:
    """One table per task (in order of first appearance); ``metrics`` default to those with values."""
    from spotfake.harness.metrics import metric_def

    tasks = list(dict.fromkeys(r["task"]["name"] for r in results))
    tables = []
    for task in tasks:
        rows_of = [r for r in results if r["task"]["name"] == task]
        names = list(metrics) if metrics else default_metrics(rows_of)
        defs = [metric_def(m) for m in names]
        raw = [[_number(r["metrics"].get(m)) for m in names] for r in rows_of]
        best = []
        for j, d in enumerate(defs):
            shown = [round(v, DIGITS) for row in raw if (v := row[j]) is not None]
            best.append((max(shown) if d.higher_is_better else min(shown)) if shown else None)
        rows = []
        for r, values in zip(rows_of, raw, strict=True):
            cells = []
            for j, (m, v) in enumerate(zip(names, values, strict=True)):
                ci = r.get("ci", {}).get(m) or [None, None]
                is_best = (
                    v is not None and best[j] is not None and round(v, DIGITS) == best[j] and len(rows_of) > 1
                )
                cells.append(Cell(v, _number(ci[0]), _number(ci[1]), is_best))
            p = r.get("perturbation")
            name = RunIdentity.from_results(r).display_name(with_perturbation=False)
            rows.append(Row(name, r["source"], None if p is None else p["spec"], tuple(cells)))
        tables.append(Table(task, tuple(names), tuple(d.label for d in defs), tuple(rows)))
    return tables


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.{DIGITS}f}"


def _row_name(row: Row) -> str:
    return row.name if row.perturbation is None else f"{row.name} ({row.perturbation})"


def _cell_text(cell: Cell, *, missing: str, bold: str, interval: str) -> str:
    """A cell in one markup: ``missing`` when empty, the value through ``bold`` when best, then
    ``interval`` (value, low, high) when the cell has a CI."""
    if cell.value is None:
        return missing
    value = bold.format(_fmt(cell.value)) if cell.best else _fmt(cell.value)
    if cell.low is None or cell.high is None:
        return value
    return interval.format(value, _fmt(cell.low), _fmt(cell.high))


# ---- names as text -----------------------------------------------------------------------------------------

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them: a name must not change how its row reads."""


def plain_text(text: str) -> str:
    """A name as one line of visible text, for every table and figure: each run of whitespace (line breaks,
    tabs, U+2028) becomes one space, and control characters (a terminal escape), lone surrogates and
    bidirectional controls become U+FFFD."""
    flat = " ".join(text.split())
    return "".join(
        "\ufffd" if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in flat
    )


# ---- Markdown ---------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Escape text for a Markdown table cell: pipes, backslashes, emphasis, code, links, HTML, entities
    (``&``), strikethrough (``~``) and math (``$``)."""
    return re.sub(r"([\\|*_`<>\[\]#&~$])", r"\\\1", plain_text(text))


def _md_cell(cell: Cell) -> str:
    return _cell_text(cell, missing="–", bold="**{}**", interval="{} [{}, {}]")


def to_markdown(tables: Sequence[Table]) -> str:
    """GitHub-flavoured pipe tables, one per task, with the reported-row note when needed."""
    parts = []
    for t in tables:
        lines = [f"**{_md(t.task)}**", ""]
        lines.append("| Model | " + " | ".join(_md(label) for label in t.labels) + " |")
        lines.append("|---|" + "---:|" * len(t.labels))
        for row in t.rows:
            name = _md(_row_name(row)) + (REPORTED_MARK if row.reported else "")
            lines.append("| " + " | ".join([name, *(_md_cell(c) for c in row.cells)]) + " |")
        if any(r.reported for r in t.rows):
            lines += ["", f"{REPORTED_MARK} {REPORTED_NOTE}."]
        lines.append("")
        lines.append("Values with 95% bootstrap intervals; best per column in bold.")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


# ---- LaTeX ------------------------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "†": r"$^\dagger$",
    "\ufffd": "?",
    "[": "{[}",  # a row starting with [ would be read as the optional argument of the \\ or rule before it
    "]": "{]}",
}


def latex_escape(text: str) -> str:
    """Text safe inside a LaTeX tabular cell: :func:`plain_text`, then every special character escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in plain_text(text))


def _tex_cell(cell: Cell) -> str:
    return _cell_text(cell, missing="--", bold=r"\textbf{{{}}}", interval=r"{} {{\scriptsize[{}, {}]}}")


def to_latex(tables: Sequence[Table]) -> str:
    """One ``table`` environment per task (needs ``\\usepackage{booktabs}``)."""
    parts = [r"% spotfake report: needs \usepackage{booktabs}"]
    for t in tables:
        label = re.sub(r"[^A-Za-z0-9]+", "-", t.task).strip("-") or "task"
        lines = [
            r"\begin{table}[t]",
            r"\centering",
            rf"\caption{{Results on {latex_escape(t.task)}: value [95\% bootstrap CI]; best in bold.}}",
            rf"\label{{tab:spotfake-{label}}}",
            r"\begin{tabular}{l" + "c" * len(t.labels) + "}",
            r"\toprule",
            " & ".join(["Model", *(latex_escape(x) for x in t.labels)]) + r" \\",
            r"\midrule",
        ]
        for row in t.rows:
            name = latex_escape(_row_name(row) + (REPORTED_MARK if row.reported else ""))
            lines.append(" & ".join([name, *(_tex_cell(c) for c in row.cells)]) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        if any(r.reported for r in t.rows):
            lines.append(rf"\par\smallskip{{\footnotesize $^\dagger$ {latex_escape(REPORTED_NOTE)}.}}")
        lines.append(r"\end{table}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


# ---- CSV --------------------------------------------------------------------------------------------------


def to_csv(tables: Sequence[Table]) -> str:
    """One row per result: task, model, source, perturbation, then value / ci_low / ci_high per metric."""
    metrics = list(dict.fromkeys(m for t in tables for m in t.metrics))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["task", "model", "source", "perturbation"]
    for m in metrics:
        header += [m, f"{m}_ci_low", f"{m}_ci_high"]
    writer.writerow(header)
    for t in tables:
        for row in t.rows:
            by_metric = dict(zip(t.metrics, row.cells, strict=True))
            out = [_csv_text(x) for x in (t.task, row.name, row.source, row.perturbation or "")]
            for m in metrics:
                c = by_metric.get(m)
                out += ["", "", ""] if c is None else [_csv(c.value), _csv(c.low), _csv(c.high)]
            writer.writerow(out)
    return buffer.getvalue()


def _csv(value: float | None) -> str:
    return "" if value is None else repr(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What a spreadsheet may read as the start of a formula (OWASP's CSV-injection list, full-width forms too)."""


def _csv_text(text: str) -> str:
    """A text cell no spreadsheet runs as a formula: :func:`plain_text` (a bare CR must not start a new row,
    leading blanks go), then a cell starting with a character that could start a formula gets a leading
    quote, whatever follows (a name ``-1`` is text, not a number)."""
    flat = plain_text(text)
    return "'" + flat if flat[:1] in FORMULA_STARTS else flat


RENDERERS = {"markdown": to_markdown, "latex": to_latex, "csv": to_csv}
