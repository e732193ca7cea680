"""Result folders -> pandas frames for the leaderboard (no Streamlit here, so it is testable on its own).

Two roots are read: the committed results (``results/``: reproduced runs, reported rows from papers, accepted
submissions) and the user's local runs (``runs/``). Every row says where it came from (``origin``:
committed / local) and what it is (``source``: reproduced / reported / submitted), so the two are never mixed
up. A file that does not match the results schema is reported as a problem and left out, not fatal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import SpotfakeError
from harness.results import RESULTS_FILE, SAMPLES_FILE, read_results

COMMITTED = "committed"
LOCAL = "local"
ORIGIN_LABELS = {COMMITTED: "committed (results/)", LOCAL: "local run (runs/)"}
SOURCES = ("reproduced", "reported", "submitted")
KINDS = ("lmm", "expert", "baseline")
KIND_LABELS = {"lmm": "LMM", "expert": "expert classifier", "baseline": "baseline"}
PREFERRED_METRICS = ("acc", "f1", "f1_fake", "f1_macro", "balanced_acc", "auc", "rouge_l", "css")
METRIC_LABELS = {
    "acc": "Acc",
    "f1": "F1 (real +)",
    "f1_fake": "F1 (fake +)",
    "f1_macro": "F1 macro",
    "balanced_acc": "Balanced acc",
    "auc": "AUC",
    "rouge_l": "ROUGE-L",
    "css": "CSS",
    "unparsed_rate": "Unparsed",
}
LOWER_IS_BETTER = frozenset({"unparsed_rate"})
PER_SAMPLE_METRICS = {"acc": "correct", "rouge_l": "rouge_l", "css": "css"}
"""Metrics that are means of a per-sample value in ``samples.jsonl`` (usable for paired comparison)."""


def is_count(key: str) -> bool:
    """``n``, ``n_missing``, ``n_errors``, ... are counts, not scores."""
    return key == "n" or key.startswith("n_")


def metric_label(key: str) -> str:
    """A short display name for a metric key."""
    return METRIC_LABELS.get(key, key.replace("_", " "))


@dataclass(frozen=True)
class RunEntry:
    """One results.json (and its folder) with where it was found."""

    folder: Path
    origin: str
    results: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.results["model"]["name"])

    @property
    def task(self) -> str:
        return str(self.results["task"]["name"])

    @property
    def source(self) -> str:
        return str(self.results["source"])

    @property
    def kind(self) -> str:
        return str(self.results["model"].get("kind", ""))

    @property
    def samples_path(self) -> Path:
        return self.folder / SAMPLES_FILE

    @property
    def has_samples(self) -> bool:
        return self.source != "reported" and self.samples_path.is_file()

    @property
    def key(self) -> str:
        """A unique, stable identifier of this row (its folder)."""
        return str(self.folder)

    @property
    def label(self) -> str:
        """``model (source, origin)``: unique enough to pick a run in a list."""
        where = "local" if self.origin == LOCAL else "committed"
        return f"{self.model} ({self.source}, {where})"


@dataclass
class Board:
    """All result rows found, and one line per file that could not be read."""

    entries: list[RunEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def tasks(self) -> list[str]:
        """Task names with at least one row, local runs' tasks first, then alphabetical."""
        local = {e.task for e in self.entries if e.origin == LOCAL}
        return sorted({e.task for e in self.entries}, key=lambda t: (t not in local, t))

    def for_task(self, task: str) -> list[RunEntry]:
        return [e for e in self.entries if e.task == task]


def _skip(path: Path, root: Path) -> bool:
    """Hidden folders (temporary submission folders) are not results."""
    return any(part.startswith(".") for part in path.relative_to(root).parts[:-1])


def scan(root: Path, origin: str, seen: set[Path] | None = None) -> Board:
    """Read every ``results.json`` below ``root``; unreadable ones become problems, not errors."""
    board = Board()
    seen = set() if seen is None else seen
    if not root.is_dir():
        return board
    for path in sorted(root.rglob(RESULTS_FILE)):
        resolved = path.resolve()
        if resolved in seen or _skip(path, root):
            continue
        seen.add(resolved)
        try:
            data = read_results(path)
        except SpotfakeError as exc:
            board.problems.append(str(exc))
            continue
        board.entries.append(RunEntry(folder=path.parent, origin=origin, results=data))
    return board


def load_board(results_dir: Path | None, runs_dir: Path | None) -> Board:
    """Committed results and local runs together; a folder reachable from both counts as committed."""
    board = Board()
    seen: set[Path] = set()
    for root, origin in ((results_dir, COMMITTED), (runs_dir, LOCAL)):
        if root is None:
            continue
        part = scan(Path(root), origin, seen)
        board.entries += part.entries
        board.problems += part.problems
    return board


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def metric_keys(entries: Iterable[RunEntry]) -> list[str]:
    """Score metrics present in any entry (counts excluded): the usual ones first, then the rest sorted."""
    found: set[str] = set()
    for e in entries:
        found |= {k for k, v in e.results.get("metrics", {}).items() if not is_count(k) and v is not None}
    ordered = [m for m in PREFERRED_METRICS if m in found]
    rest = sorted(found - set(ordered) - {"unparsed_rate"})
    return ordered + rest + (["unparsed_rate"] if "unparsed_rate" in found else [])


def results_frame(entries: Sequence[RunEntry]) -> pd.DataFrame:
    """One row per result: identity columns, every metric, ``<metric>_lo`` / ``<metric>_hi`` CI bounds."""
    metrics = metric_keys(entries)
    rows = []
    for e in entries:
        res = e.results
        values = res.get("metrics", {})
        ci = res.get("ci", {})
        reported = res.get("reported", {}) if e.source == "reported" else {}
        row: dict[str, Any] = {
            "key": e.key,
            "task": e.task,
            "model": e.model,
            "kind": e.kind,
            "source": e.source,
            "origin": e.origin,
            "n": values.get("n", res["task"].get("n")),
            "citation": reported.get("citation", ""),
            "table": str(reported.get("table", "")),
            "notes": reported.get("notes", ""),
            "has_samples": e.has_samples,
            "created": res.get("created", ""),
            "folder": str(e.folder),
        }
        for m in metrics:
            row[m] = _number(values.get(m))
            bounds = ci.get(m) or (None, None)
            row[f"{m}_lo"] = _number(bounds[0])
            row[f"{m}_hi"] = _number(bounds[1])
        rows.append(row)
    columns = ["key", "task", "model", "kind", "source", "origin", "n", "citation", "table", "notes"]
    columns += ["has_samples", "created", "folder"]
    for m in metrics:
        columns += [m, f"{m}_lo", f"{m}_hi"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").astype("Int64")
    return frame


def breakdown_fields(entries: Iterable[RunEntry]) -> list[str]:
    """``category`` (when any entry has per-category values) and every breakdown field found."""
    entries = list(entries)
    fields = ["category"] if any(e.results.get("per_category") for e in entries) else []
    extra: set[str] = set()
    for e in entries:
        extra |= set(e.results.get("breakdowns", {}))
    return fields + sorted(extra - {"category"})


def breakdown_frame(entries: Sequence[RunEntry], by: str = "category") -> pd.DataFrame:
    """Long frame ``key, model, source, origin, value, metric, score, n`` from per-category values
    (``by="category"``) or from ``breakdowns[by]``."""
    rows = []
    for e in entries:
        if by == "category":
            groups = e.results.get("per_category", {})
        else:
            groups = e.results.get("breakdowns", {}).get(by, {})
        for value, metrics in groups.items():
            n = metrics.get("n")
            for metric, score in metrics.items():
                if is_count(metric):
                    continue
                rows.append(
                    {
                        "key": e.key,
                        "model": e.model,
                        "label": e.label,
                        "source": e.source,
                        "origin": e.origin,
                        "value": str(value),
                        "metric": metric,
                        "score": _number(score),
                        "n": n,
                    }
                )
    columns = ["key", "model", "label", "source", "origin", "value", "metric", "score", "n"]
    return pd.DataFrame(rows, columns=columns)


SAMPLE_COLUMNS = (
    "id",
    "label",
    "category",
    "response",
    "score",
    "verdict",
    "correct",
    "rouge_l",
    "css",
    "error",
)


def load_samples(folder: Path) -> pd.DataFrame:
    """The records of one run folder as a frame indexed by sample id (strict: a bad line is an error)."""
    from harness.results import read_records

    records = read_records(folder / SAMPLES_FILE)
    rows = [{c: getattr(r, c) for c in SAMPLE_COLUMNS} for r in records]
    frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
    if frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise SpotfakeError(f"{folder / SAMPLES_FILE}: duplicate sample id {dup!r}")
    return frame.set_index("id", drop=False)


def paired_values(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per-sample values of two runs on the samples both have, as columns ``a`` and ``b`` (index = id).

    ``acc``: 1 for a correct verdict, 0 otherwise (an unparsed or missing answer is never correct, as in
    the accuracy metric). ``rouge_l`` / ``css``: only samples where both runs have a value.
    """
    column = PER_SAMPLE_METRICS.get(metric)
    if column is None:
        raise SpotfakeError(
            f"metric {metric!r} has no per-sample value; choose one of {sorted(PER_SAMPLE_METRICS)}"
        )
    ids = a.index.intersection(b.index, sort=False)
    left = a.loc[ids, column]
    right = b.loc[ids, column]
    if metric == "acc":
        pair = pd.DataFrame({"a": left.eq(True).astype(float), "b": right.eq(True).astype(float)}, index=ids)
        return pair
    pair = pd.DataFrame(
        {"a": pd.to_numeric(left, errors="coerce"), "b": pd.to_numeric(right, errors="coerce")}
    )
    return pair.dropna()


def to_json_text(value: Any) -> str:
    """Indented JSON for display (as code, never as HTML)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
