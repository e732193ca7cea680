"""Submission checks: a run folder (``results.json`` + ``samples.jsonl``) is accepted only when the
leaderboard, scoring the submitted responses against its *own* task data, gets the numbers it claims.

The checks, in order (the first failure refuses the submission with one line naming what and where):

1. sizes within :class:`Limits` (before anything is parsed; zip members by their real size);
2. strict JSON (UTF-8, no duplicate keys, no NaN/Infinity) and the results JSON Schema of the engine;
3. a registered task (never a file path) whose version, annotation fingerprint and arguments are the ones
   the leaderboard holds (``--data-root`` points at the data when the task needs it);
4. one record per task sample: no missing, extra or duplicate ids, well-typed fields, and no label that
   contradicts the task (labels always come from the task, never from the submission);
5. re-scoring through the engine's own code (:mod:`harness.scoring`), then every claimed metric, per-category
   and breakdown value, and every per-sample verdict / correct / ROUGE-L / CSS is compared with the
   recomputed one (tolerance :data:`TOLERANCE`; CSS :data:`CSS_TOLERANCE` since embeddings are float32).

An accepted submission is stored atomically under ``<results-dir>/submitted/<model>/<task>/`` with the
recomputed ``results.json`` (``"source": "submitted"`` and a ``provenance`` block: sha256 of the files as
received, time, spotfake version) and records, beside the received files kept verbatim for audit. Nothing
submitted is unpickled, executed or rendered as HTML.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import SpotfakeError
from harness.results import (
    RESULTS_FILE,
    SAMPLES_FILE,
    ModelInfo,
    run_dir,
    utc_now,
    validate_results,
    write_records,
)
from harness.types import Record, Response
from leaderboard.received import Limits, SubmissionFiles, too_big

TOLERANCE = 1e-9
CSS_TOLERANCE = 1e-6
SUBMITTED_DIR = "submitted"
RECEIVED_PREFIX = "received."
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "response": (str,),
    "verdict": (str,),
    "error": (str,),
    "category": (str,),
    "answer": (str,),
    "run_key": (str,),
    "correct": (bool,),
    "metadata": (dict,),
    "usage": (dict,),
}
_NUMBER_FIELDS = ("score", "rouge_l", "css", "latency_s")


@dataclass
class CheckedSubmission:
    """A submission that passed every check: what will be stored."""

    results: dict[str, Any]
    records: list[Record]
    files: SubmissionFiles
    checks: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        return str(self.results["model"]["name"])

    @property
    def task(self) -> str:
        return str(self.results["task"]["name"])


# ---------------------------------------------------------------------------------------------- parsing


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def strict_json(text: str, where: str) -> Any:
    """``json.loads`` that refuses duplicate keys, NaN/Infinity and absurd nesting, naming ``where``."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise SpotfakeError(
            f"{where}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise SpotfakeError(f"{where}: malformed JSON: {exc}") from None
    except RecursionError:
        raise SpotfakeError(f"{where}: JSON nested too deeply") from None


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpotfakeError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def parse_results(data: bytes) -> dict[str, Any]:
    """Parse and schema-validate the submitted ``results.json``."""
    results = strict_json(_text(data, RESULTS_FILE), RESULTS_FILE)
    validate_results(results, source=RESULTS_FILE)
    assert isinstance(results, dict)  # the schema says "object"
    return results


@dataclass
class SubmittedRecord:
    """One parsed line of the submitted samples.jsonl."""

    line: int
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])


def _iter_lines(data: bytes, limits: Limits) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if len(raw) > limits.line_bytes:
            raise SpotfakeError(
                f"{SAMPLES_FILE} line {number}: {len(raw):,} bytes is over the limit of {limits.line_bytes:,} per record"
            )
        if raw.strip():
            yield number, raw


def _check_record_types(obj: dict[str, Any], where: str) -> None:
    sid = obj.get("id")
    if not isinstance(sid, str) or not sid:
        raise SpotfakeError(f"{where}: each record needs a non-empty string 'id'")
    for key, types in _RECORD_TYPES.items():
        value = obj.get(key)
        if value is not None and not isinstance(value, types):
            raise SpotfakeError(f"{where} (sample {sid!r}): {key!r} must be {types[0].__name__} or null")
    for key in _NUMBER_FIELDS:
        value = obj.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise SpotfakeError(f"{where} (sample {sid!r}): {key!r} must be a number or null")
    score = obj.get("score")
    if score is not None and not 0.0 <= float(score) <= 1.0:
        raise SpotfakeError(f"{where} (sample {sid!r}): 'score' must be p(fake) in [0, 1], got {score}")
    if obj.get("label") not in (None, "real", "fake"):
        raise SpotfakeError(f"{where} (sample {sid!r}): 'label' must be 'real', 'fake' or null")


def parse_samples(data: bytes, limits: Limits = Limits()) -> list[SubmittedRecord]:
    """Parse the submitted ``samples.jsonl`` strictly: one JSON object per line, typed fields, unique ids."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpotfakeError(f"{SAMPLES_FILE}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    records: list[SubmittedRecord] = []
    seen: dict[str, int] = {}
    for number, raw in _iter_lines(data, limits):
        where = f"{SAMPLES_FILE} line {number}"
        obj = strict_json(raw.decode("utf-8"), where)
        if not isinstance(obj, dict):
            raise SpotfakeError(
                f"{where}: expected a JSON object (one record per line), got {type(obj).__name__}"
            )
        _check_record_types(obj, where)
        sid = obj["id"]
        if sid in seen:
            raise SpotfakeError(
                f"{where}: duplicate id {sid!r} (first on line {seen[sid]}); keep one record per sample"
            )
        seen[sid] = number
        records.append(SubmittedRecord(number, obj))
    if not records:
        raise SpotfakeError(f"{SAMPLES_FILE}: no records")
    return records


# ---------------------------------------------------------------------------------------------- checks


def _examples(ids: Sequence[str]) -> str:
    return ", ".join(repr(i) for i in sorted(ids)[:3])


def load_task_for(results: Mapping[str, Any], data_root: Path | None) -> Any:
    """The leaderboard's own copy of the submitted task; refuses anything but a registered task name, and any
    difference in version, annotation fingerprint or task arguments."""
    from harness.registry import TASKS
    from harness.task import load_task

    claimed = results["task"]
    name = claimed["name"]
    try:
        TASKS.entry(name)  # unknown names (and file paths) stop here, with a "did you mean"
    except SpotfakeError as exc:
        raise SpotfakeError(f"{RESULTS_FILE}: {exc}") from None
    task = load_task(name, data_root)
    if str(claimed["version"]) != task.spec.version:
        raise SpotfakeError(
            f"{RESULTS_FILE}: task {name!r} version {claimed['version']!r} is not the leaderboard's version "
            f"{task.spec.version!r}; re-run with the current spotfake"
        )
    fingerprint = claimed.get("data_fingerprint")
    if fingerprint is not None and fingerprint != task.data_fingerprint:
        raise SpotfakeError(
            f"{RESULTS_FILE}: task {name!r} was run on other annotation files (fingerprint {fingerprint}, the "
            f"leaderboard's is {task.data_fingerprint}); run on the published files"
        )
    ours = {k: str(v) for k, v in task.args.items()}
    theirs = {str(k): str(v) for k, v in (claimed.get("args") or {}).items()}
    if theirs and theirs != ours:
        diff = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        raise SpotfakeError(
            f"{RESULTS_FILE}: task arguments differ from the leaderboard's for {', '.join(diff)} "
            f"(submitted {theirs}, leaderboard {ours})"
        )
    return task


def check_ids_and_labels(task: Any, submitted: Sequence[SubmittedRecord]) -> None:
    """Exactly the task's ids, and no submitted label that contradicts the task's."""
    by_id = {s.id: s for s in task.samples}
    ids = {r.id for r in submitted}
    missing = [i for i in by_id if i not in ids]
    extra = [i for i in ids if i not in by_id]
    if extra:
        raise SpotfakeError(
            f"{SAMPLES_FILE}: {len(extra)} id(s) are not in task {task.spec.name!r} (e.g. {_examples(extra)}); "
            "submit the run of the whole task as written by spotfake"
        )
    if missing:
        raise SpotfakeError(
            f"{SAMPLES_FILE}: {len(missing)} of the {len(by_id)} ids of task {task.spec.name!r} have no record "
            f"(e.g. {_examples(missing)}); submit a run of the whole task (no --limit)"
        )
    for rec in submitted:
        label = rec.data.get("label")
        truth = by_id[rec.id].label
        if label is not None and label != truth:
            raise SpotfakeError(
                f"{SAMPLES_FILE} line {rec.line} (sample {rec.id!r}): label {label!r} contradicts the task's "
                f"{truth!r}; labels come from the leaderboard's task data"
            )


def response_of(rec: SubmittedRecord) -> Response | None:
    """The model's answer in a submitted record, or None for a *missing* sample (nothing recorded)."""
    d = rec.data
    if d.get("response") is None and d.get("score") is None and d.get("error") is None:
        return None
    usage = d.get("usage")
    if usage is not None:
        usage = {str(k): int(v) for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}
    return Response(
        text=d.get("response"),
        score=None if d.get("score") is None else float(d["score"]),
        error=d.get("error"),
        latency_s=None if d.get("latency_s") is None else float(d["latency_s"]),
        usage=usage,
    )


def scoring_options(claimed: Mapping[str, Any]) -> Any:
    """The leaderboard's scoring settings; only the p(fake) threshold is the submitter's (a model setting)."""
    from harness.scoring import ScoringOptions

    threshold = (claimed.get("scoring") or {}).get("threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise SpotfakeError(
            f"{RESULTS_FILE}: scoring.threshold must be a number in [0, 1], got {threshold!r}"
        )
    return ScoringOptions(threshold=float(threshold))


def rescore(
    task: Any, submitted: Sequence[SubmittedRecord], options: Any
) -> tuple[list[Record], Any, dict[str, Any]]:
    """Records, summary and scoring info recomputed by the engine from the submitted answers alone."""
    from harness.scoring import complete_records, records_from_responses, score_and_summarize

    responses = {rec.id: response for rec in submitted if (response := response_of(rec)) is not None}
    found = records_from_responses(task, responses, options.threshold, None)
    records = complete_records(task, found, None)
    summary, scoring = score_and_summarize(task, records, options)
    return records, summary, dict(scoring)


def _tolerance(metric: str) -> float:
    return CSS_TOLERANCE if metric == "css" else TOLERANCE


def _same(claimed: Any, recomputed: Any, metric: str) -> bool:
    if claimed is None or recomputed is None:
        return claimed is None and recomputed is None
    if isinstance(claimed, bool) or isinstance(recomputed, bool) or isinstance(claimed, str):
        return bool(claimed == recomputed)
    a, b = float(claimed), float(recomputed)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=0.0, abs_tol=_tolerance(metric))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def compare_values(claimed: Mapping[str, Any], recomputed: Mapping[str, Any], where: str) -> str | None:
    """The first disagreement between two flat metric dicts as one line, or None when they agree."""
    for metric in [*recomputed, *(k for k in claimed if k not in recomputed)]:
        if metric not in recomputed:
            return f"{where} claims metric {metric!r}, which the task does not compute"
        if metric not in claimed:
            if recomputed[metric] is None:
                continue
            return f"{where} metric {metric!r}: claimed nothing but recomputed {_fmt(recomputed[metric])}"
        if not _same(claimed[metric], recomputed[metric], metric):
            return (
                f"{where} metric {metric!r}: claimed {_fmt(claimed[metric])} but recomputed "
                f"{_fmt(recomputed[metric])} from the submitted responses"
            )
    return None


def compare_groups(claimed: Mapping[str, Any], recomputed: Mapping[str, Any], where: str) -> str | None:
    """Compare ``{group: {metric: value}}`` dicts (per-category values or one breakdown field)."""
    for group in [*recomputed, *(g for g in claimed if g not in recomputed)]:
        if group not in claimed or group not in recomputed:
            side = "claims" if group in claimed else "lacks"
            return f"{where} {side} group {group!r} (recomputed groups: {sorted(recomputed)[:5]})"
        found = compare_values(claimed[group], recomputed[group], f"{where}[{group!r}]")
        if found:
            return found
    return None


def compare_records(submitted: Sequence[SubmittedRecord], records: Sequence[Record]) -> str | None:
    """The first per-sample verdict / correct / ROUGE-L / CSS that disagrees with the recomputed record."""
    by_id = {r.id: r for r in records}
    for rec in submitted:
        ours = by_id[rec.id]
        for key in ("verdict", "correct", "rouge_l", "css"):
            if key in rec.data and not _same(rec.data[key], getattr(ours, key), key):
                return (
                    f"{SAMPLES_FILE} line {rec.line} (sample {rec.id!r}): claimed {key} {_fmt(rec.data[key])} but "
                    f"recomputed {_fmt(getattr(ours, key))}"
                )
    return None


def _hint(claimed: Mapping[str, Any], scoring: Mapping[str, Any]) -> str:
    theirs = (claimed.get("scoring") or {}).get("verdict_parser")
    ours = scoring.get("verdict_parser")
    if theirs and ours and theirs != ours:
        return f" (it was scored with verdict parser {theirs}, the leaderboard has {ours})"
    return ""


def check_submission(
    files: SubmissionFiles, *, data_root: Path | None = None, limits: Limits = Limits()
) -> CheckedSubmission:
    """Run every check; return what to store, or raise SpotfakeError with the first reason to refuse."""
    for name, data, limit in (
        (RESULTS_FILE, files.results, limits.results_bytes),
        (SAMPLES_FILE, files.samples, limits.samples_bytes),
    ):
        if len(data) > limit:
            raise too_big(name, len(data), limit)
    claimed = parse_results(files.results)
    if claimed["source"] == "reported":
        raise SpotfakeError(
            f"{RESULTS_FILE}: source 'reported' cannot be submitted; a submission is a run whose per-sample "
            "answers the leaderboard re-scores"
        )
    model = claimed["model"]["name"]
    if not MODEL_NAME.match(model):
        raise SpotfakeError(
            f"{RESULTS_FILE}: model name {model!r} is not usable as a leaderboard name; use 1-100 letters, "
            "digits, '.', '_', '+' or '-', starting with a letter or digit"
        )
    submitted = parse_samples(files.samples, limits)
    task = load_task_for(claimed, data_root)
    check_ids_and_labels(task, submitted)
    options = scoring_options(claimed)
    records, summary, scoring = rescore(task, submitted, options)

    claimed_embedder = (claimed.get("scoring") or {}).get("css_embedder")
    if claimed_embedder and scoring.get("css_embedder") and claimed_embedder != scoring["css_embedder"]:
        raise SpotfakeError(
            f"{RESULTS_FILE}: CSS was computed with embedder {claimed_embedder!r}; the leaderboard uses "
            f"{scoring['css_embedder']!r} (re-score without --css-model)"
        )
    reason = (
        compare_values(claimed["metrics"], summary.metrics, RESULTS_FILE)
        or compare_groups(claimed["per_category"], summary.per_category, f"{RESULTS_FILE} per_category")
        or compare_groups_all(claimed["breakdowns"], summary.breakdowns)
        or compare_records(submitted, records)
    )
    if reason:
        raise SpotfakeError(reason + _hint(claimed, scoring))

    results = stored_results(claimed, task, summary, scoring, files)
    return CheckedSubmission(
        results=results,
        records=records,
        files=files,
        checks=list(results["provenance"]["checks"]),
    )


def compare_groups_all(claimed: Mapping[str, Any], recomputed: Mapping[str, Any]) -> str | None:
    """Compare every breakdown field (``{field: {value: {metric: value}}}``)."""
    for name in [*recomputed, *(f for f in claimed if f not in recomputed)]:
        if name not in claimed or name not in recomputed:
            side = "claims" if name in claimed else "lacks"
            return (
                f"{RESULTS_FILE} breakdowns {side} field {name!r} (recomputed fields: {sorted(recomputed)})"
            )
        found = compare_groups(claimed[name], recomputed[name], f"{RESULTS_FILE} breakdowns[{name!r}]")
        if found:
            return found
    return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_results(
    claimed: Mapping[str, Any], task: Any, summary: Any, scoring: Mapping[str, Any], files: SubmissionFiles
) -> dict[str, Any]:
    """The results.json to store: the engine's own numbers, ``source = "submitted"``, and provenance."""
    from harness.scoring import build_results

    model = claimed["model"]
    info = ModelInfo(
        name=model["name"],
        kind=model["kind"],
        args=dict(model.get("args") or {}),
        settings=dict(model.get("settings") or {}),
        fingerprint=str(model.get("fingerprint") or ""),
    )
    results = build_results(
        model=info,
        task=task,
        summary=summary,
        scoring=scoring,
        settings=dict(claimed.get("settings") or {}),
        environment=dict(claimed.get("environment") or {}),
        timing=dict(claimed.get("timing") or {}),
        key=None,
        source="submitted",
    )
    results["provenance"] = {
        "received": utc_now(),
        "submitted_as": "/".join(Path(files.origin).parts[-2:]) or files.origin,
        "files": {
            RESULTS_FILE: {"sha256": sha256(files.results), "bytes": len(files.results)},
            SAMPLES_FILE: {"sha256": sha256(files.samples), "bytes": len(files.samples)},
        },
        "submitted_source": claimed["source"],
        "submitted_spotfake_version": claimed["spotfake_version"],
        "submitted_created": claimed["created"],
        "accepted_by": f"spotfake {__version__}",
        "checks": [
            "sizes",
            "json schema",
            "task version, annotation fingerprint and arguments",
            "ids exactly the task's, labels from the task",
            "metrics, per-category and breakdown values recomputed",
            "per-sample verdict, correct, ROUGE-L and CSS recomputed",
        ],
        "tolerance": {"default": TOLERANCE, "css": CSS_TOLERANCE},
    }
    validate_results(results, source="stored submission")
    return results


# ---------------------------------------------------------------------------------------------- storing


def submission_folder(results_dir: Path, model: str, task: str) -> Path:
    """``<results-dir>/submitted/<model>/<task>``."""
    return run_dir(results_dir / SUBMITTED_DIR, model, task)


def store_submission(checked: CheckedSubmission, results_dir: Path, *, replace: bool = False) -> Path:
    """Write the checked submission atomically (a complete folder appears at once, or nothing does)."""
    final = submission_folder(results_dir, checked.model, checked.task)
    if final.exists() and not replace:
        raise SpotfakeError(
            f"{final}: a submission of {checked.model!r} on {checked.task!r} is already stored; "
            "use --replace (or the replace box) to overwrite it"
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=final.parent))
    try:
        staging.chmod(0o755)
        (staging / RESULTS_FILE).write_text(
            json.dumps(checked.results, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        write_records(staging / SAMPLES_FILE, checked.records)
        (staging / (RECEIVED_PREFIX + RESULTS_FILE)).write_bytes(checked.files.results)
        (staging / (RECEIVED_PREFIX + SAMPLES_FILE)).write_bytes(checked.files.samples)
        for path in staging.iterdir():
            path.chmod(0o644)
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        if final.exists():
            old = final.parent / f".replaced-{uuid.uuid4().hex}"
            os.replace(final, old)
            os.replace(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def submit(
    files: SubmissionFiles,
    results_dir: Path,
    *,
    data_root: Path | None = None,
    limits: Limits = Limits(),
    replace: bool = False,
) -> tuple[Path, CheckedSubmission]:
    """Check a submission and store it; returns the stored folder. The CLI and the app both call this."""
    checked = check_submission(files, data_root=data_root, limits=limits)
    folder = store_submission(checked, results_dir, replace=replace)
    return folder, checked
