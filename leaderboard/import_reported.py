"""Published numbers -> ``results/reported/``: one results.json per (publication, task, model), labelled
``"source": "reported"`` with the citation, table and notes, so the leaderboard shows them beside (never
mixed with) spotfake's own runs.

Usage::

    python -m spotfake.leaderboard.import_reported [CSV] [--out results/reported] [--check]

``CSV`` (default ``reference/paper_results.csv`` in ``$SPOTFAKE_SHARED``, else in ``../shared`` beside the
repository) has the columns
``source, table, dataset, model, acc, f1, rouge_l, css, auc, notes``; empty cells are metrics the
publication does not give. A published F1 is read for its positive class from its own arithmetic
(:mod:`leaderboard.f1_convention`): it is filed as ``f1`` (real positive), ``f1_fake`` or ``f1_macro``,
or under no metric when it is a weighted or unknown F1; ``reported`` keeps the figure, the class and
the check behind it. A model whose size the publication states gets ``model.parameters`` with the
statement in ``model.parameters_note`` (:data:`STATED_PARAMETERS`); no other row has a count. ``--check`` writes nothing and exits 1 when a file would change.
A file whose content is unchanged keeps its ``created`` time, so re-running changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from spotfake.harness import __version__
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import atomic_write_json
from spotfake.harness.results import RESULTS_FILE, SCHEMA_VERSION, utc_now, validate_results
from spotfake.leaderboard.f1_convention import F1_METRICS, read_f1

SHARED = Path(os.environ.get("SPOTFAKE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
DEFAULT_CSV = SHARED / "reference" / "paper_results.csv"
DEFAULT_OUT = Path("results") / "reported"
METRIC_COLUMNS = ("acc", "f1", "rouge_l", "css", "auc")
REQUIRED_COLUMNS = ("source", "table", "dataset", "model", *METRIC_COLUMNS, "notes")
REPORTED_TASK_VERSION = "published"

TASK_NAMES = {
    "fakeclue": "fakeclue",
    "loki": "loki",
    "loki-explain": "loki-explain",
    "ddvqa": "ddvqa",
    "dmimage": "dmimage",
    "ff++": "ffpp",
}
"""Dataset names of the table -> spotfake task names (FaceForensics++ is the ``ffpp`` task)."""

METRIC_NAMES = {"ff++": {"auc": "auc_mean_category"}}
"""Per dataset, a column whose published figure is another spotfake metric: FF++ tables give the mean of
the per-method AUCs (DF, F2F, FS, NT), which is ``auc_mean_category``, not the pooled ``auc``."""

MODEL_KINDS = {
    **dict.fromkeys(
        [
            "Deepseek-VL2-small", "Deepseek-VL2", "DeepSeek-VL2", "InternVL2-8B", "InternVL2-40B", "Qwen2-VL-7B",
            "Qwen2-VL-72B", "GPT-4o", "LLaVA-1.6-7B", "FakeVLM", "LEGION", "SIDA", "AntifakePrompt",
            "Common-DF-T", "Common-DF-I", "Common-DF-TI",
        ],
        "lmm",
    ),
    **dict.fromkeys(
        ["CNNSpot", "Gram-Net", "Fusing", "LNP", "UnivFD", "FWA", "Face X-ray", "SRM", "CDFA"], "expert"
    ),
}  # fmt: skip
"""Published model -> kind: LMMs answer in words (FakeVLM, SIDA, AntifakePrompt and DD-VQA's Common-DF
models are built on multimodal language models); expert classifiers give a real/fake score."""


NAMED_SIZE = "nominal: the size in the model's name as the publication prints it ({name})"
STATED_PARAMETERS: dict[str, tuple[int, str]] = {
    "FakeVLM": (
        7_000_000_000,
        "nominal: FakeVLM is LLaVA-1.5-7B (Vicuna-v1.5-7B language model) fine-tuned, as the publication "
        "states; the authors' scripts/train.sh trains llava-1.5-7b",
    ),
    **{
        name: (size * 1_000_000_000, NAMED_SIZE.format(name=name))
        for name, size in (
            ("InternVL2-8B", 8), ("InternVL2-40B", 40), ("Qwen2-VL-7B", 7), ("Qwen2-VL-72B", 72),
            ("LLaVA-1.6-7B", 7),
        )
    },
}  # fmt: skip
"""Published model -> (parameter count, where the count comes from), only where the publication states a
size; models named without one (GPT-4o, Deepseek-VL2-small, the expert detectors) are left blank."""


def slug(text: str) -> str:
    """A folder name: runs of anything but letters, digits, ``.``, ``_``, ``+`` and ``-`` become ``-``."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text.strip()).strip("-").lower()


def _metric(value: str, where: str, column: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise SpotfakeError(f"{where}: {column} must be a number or empty, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise SpotfakeError(
            f"{where}: {column} = {number} is not a fraction in [0, 1] (divide percentages by 100)"
        )
    return number


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows; missing columns or an unreadable file are one clear error."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SpotfakeError(f"{path}: missing column(s) {missing}; expected {list(REQUIRED_COLUMNS)}")
            return [dict(row) for row in reader]
    except FileNotFoundError:
        raise SpotfakeError(
            f"{path}: not found; pass the published-results CSV as the first argument"
        ) from None


def reported_result(row: Mapping[str, str], where: str) -> dict[str, Any]:
    """One CSV row as a schema-valid ``results.json`` with ``source = "reported"`` (``created`` left out)."""
    model, dataset = row["model"].strip(), row["dataset"].strip()
    if model not in MODEL_KINDS:
        raise SpotfakeError(
            f"{where}: unknown model {model!r}; add its kind to MODEL_KINDS in {Path(__file__).name}"
        )
    if dataset not in TASK_NAMES:
        raise SpotfakeError(
            f"{where}: unknown dataset {dataset!r}; add it to TASK_NAMES in {Path(__file__).name}"
        )
    names = METRIC_NAMES.get(dataset, {})
    metrics = {names.get(c, c): v for c in METRIC_COLUMNS if (v := _metric(row[c], where, c)) is not None}
    if not metrics:
        raise SpotfakeError(f"{where}: no metric value for {model} on {dataset}")
    f1: dict[str, Any] = {"f1_positive_class": None}
    if "f1" in metrics:
        published = metrics.pop("f1")
        found, check = read_f1(TASK_NAMES[dataset], metrics.get("acc"), published)
        if found in F1_METRICS:
            metrics[F1_METRICS[found]] = published
        f1 = {"f1_positive_class": found, "published_f1": published, "f1_check": check}
    return {
        "schema_version": SCHEMA_VERSION,
        "spotfake_version": __version__,
        "source": "reported",
        "model": {"name": model, "kind": MODEL_KINDS[model], **_stated(model)},
        "task": {"name": TASK_NAMES[dataset], "version": REPORTED_TASK_VERSION},
        "metrics": metrics,
        "ci": {},
        "per_category": {},
        "breakdowns": {},
        "reported": {
            "citation": row["source"].strip(),
            "table": row["table"].strip(),
            "dataset": dataset,
            "notes": row["notes"].strip(),
            **f1,
        },
    }


def _stated(model: str) -> dict[str, Any]:
    """``parameters`` and ``parameters_note`` of a model whose size its publication states, else nothing."""
    if model not in STATED_PARAMETERS:
        return {}
    count, note = STATED_PARAMETERS[model]
    return {"parameters": count, "parameters_note": note}


def convert(rows: Iterable[Mapping[str, str]], csv_name: str) -> dict[Path, dict[str, Any]]:
    """``{relative folder: results}`` for every row; a repeated (publication, task, model) is an error."""
    out: dict[Path, dict[str, Any]] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{csv_name} line {number}"
        result = reported_result(row, where)
        folder = Path(slug(row["source"])) / slug(row["model"]) / result["task"]["name"]
        if folder in out:
            raise SpotfakeError(
                f"{where}: a second row for {row['model']} on {row['dataset']} in {row['source']}"
            )
        out[folder] = result
    return out


def _without_created(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "created"}


def write_all(results: Mapping[Path, dict[str, Any]], out_dir: Path, *, check: bool = False) -> list[Path]:
    """Write each file (keeping ``created`` when nothing else changed); return the files that changed."""
    changed = []
    for folder, result in sorted(results.items()):
        path = out_dir / folder / RESULTS_FILE
        old: dict[str, Any] | None = None
        if path.is_file():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                old = None
        if old is not None and _without_created(old) == _without_created(result):
            continue
        changed.append(path)
        if check:
            continue
        full = {**result, "created": utc_now()}
        validate_results(full, source=str(path))
        atomic_write_json(path, full)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spotfake.leaderboard.import_reported", description=__doc__.split("\n")[0]
    )
    parser.add_argument("csv", nargs="?", default=str(DEFAULT_CSV), help="published results CSV")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default results/reported)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file would change")
    args = parser.parse_args(argv)
    try:
        path = Path(args.csv)
        results = convert(read_rows(path), path.name)
        changed = write_all(results, Path(args.out), check=args.check)
    except SpotfakeError as exc:
        print(f"import_reported: error: {exc}", file=sys.stderr)
        return 2
    verb = "would change" if args.check else "wrote"
    print(f"{len(results)} reported results; {verb} {len(changed)} file(s) under {args.out}")
    for p in changed:
        print(f"  {p}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
