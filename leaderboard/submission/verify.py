"""Verifying a submission by recomputation: the leaderboard's own task, the engine's own scoring, and every
claimed number compared with the recomputed one (tolerance :data:`TOLERANCE`; CSS :data:`CSS_TOLERANCE`
since its embeddings are float32)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.summary import Summary
from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import TaskIdentity
from spotfake.harness.scoring import Calibration, ScoringOptions
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record
from spotfake.leaderboard.submission.parse import SubmittedRecord

TOLERANCE = 1e-9
CSS_TOLERANCE = 1e-6
PER_SAMPLE_CHECKED = ("verdict", "correct", "rouge_l", "css")
"""Per-sample values a submitted record may claim; each is compared with the recomputed record."""


class NeedsClip(SpotfakeError):
    """The submission asks for ``css_clip77`` and this board was given no CLIP folder to recompute it.

    Worded for an uploader; the command line adds the option that gives the board one."""

    def __init__(self) -> None:
        super().__init__(
            f"{RESULTS_FILE}: not recomputed: metric css_clip77 needs CLIP weights, which this server does not "
            "have; re-score the run without it (spotfake score ... --metrics -css_clip77) and submit that"
        )


def _examples(ids: Sequence[str]) -> str:
    return ", ".join(repr(i[:80]) for i in sorted(ids)[:3])


def load_task_for(results: Results, data_root: Path | None) -> LoadedTask:
    """The leaderboard's own copy of the submitted task; refuses anything but a registered task name, and any
    difference in version, annotation fingerprint or task arguments."""
    from spotfake.harness.registry import TASKS
    from spotfake.harness.task import load_task

    claimed = results["task"]
    name = claimed["name"]
    try:
        TASKS.entry(name)  # unknown names (and file paths) stop here, with a "did you mean"
    except SpotfakeError as exc:
        raise SpotfakeError(f"{RESULTS_FILE}: {exc}") from None
    task = load_task(name, data_root)
    requested = (results.get("scoring") or {}).get("metrics_requested")
    if requested is not None:  # the submitter's --metrics: the same selection, every name checked
        from spotfake.harness.task import choose_metrics

        try:
            task = choose_metrics(task, str(requested))
        except SpotfakeError as exc:
            raise SpotfakeError(f"{RESULTS_FILE}: scoring.metrics_requested: {exc}") from None
    ours, theirs = TaskIdentity.of(task), TaskIdentity.from_entry(claimed)
    if theirs.version != ours.version:
        raise SpotfakeError(
            f"{RESULTS_FILE}: task {name!r} version {theirs.version!r} is not the leaderboard's version "
            f"{ours.version!r}; re-run with the current spotfake"
        )
    if theirs.data_fingerprint and theirs.data_fingerprint != ours.data_fingerprint:
        raise SpotfakeError(
            f"{RESULTS_FILE}: task {name!r} was run on other annotation files (fingerprint "
            f"{theirs.data_fingerprint}, the leaderboard's is {ours.data_fingerprint}); run on the published files"
        )
    if theirs.args and theirs.args != ours.args:
        diff = sorted(k for k in set(ours.args) | set(theirs.args) if ours.args.get(k) != theirs.args.get(k))
        raise SpotfakeError(
            f"{RESULTS_FILE}: task arguments differ from the leaderboard's for {', '.join(diff)} "
            f"(submitted {dict(theirs.args)}, leaderboard {dict(ours.args)})"
        )
    return task


def check_ids_and_labels(
    task: LoadedTask, submitted: Sequence[SubmittedRecord], *, labels: bool = True
) -> None:
    """Exactly the task's ids, and (``labels``) no submitted label that contradicts the task's. With
    labels held out the submitted labels are ignored: a refusal naming the truth would reveal it."""
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
    for rec in submitted if labels else ():
        label = rec.record.label
        truth = by_id[rec.id].label
        if label is not None and label != truth:
            raise SpotfakeError(
                f"{SAMPLES_FILE} line {rec.line} (sample {rec.id[:120]!r}): label {label!r} contradicts the "
                f"task's {truth!r}; labels come from the leaderboard's task data"
            )


def scoring_options(claimed: Results, css_clip_model: Path | None = None) -> ScoringOptions:
    """The leaderboard's scoring settings; only the p(fake) threshold is the submitter's (a model setting), and
    a threshold calibrated on another split, which scoring refuses when its recorded source is the task's own
    data (:mod:`harness.scoring.thresholds`). ``css_clip_model``: the board's CLIP folder for ``css_clip77``."""
    threshold = (claimed.get("scoring") or {}).get("threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise SpotfakeError(
            f"{RESULTS_FILE}: scoring.threshold must be a number in [0, 1], got {str(threshold)[:40]!r}"
        )
    recorded = (claimed.get("scoring") or {}).get("calibration")  # re-checked: never the test data's
    calibration = None if recorded is None else Calibration.from_entry(recorded, RESULTS_FILE)
    clip = str(css_clip_model) if css_clip_model else None
    return ScoringOptions(threshold=float(threshold), calibration=calibration, css_clip_model=clip)


def rescore(
    task: LoadedTask, submitted: Sequence[SubmittedRecord], options: ScoringOptions, model_kind: str
) -> tuple[list[Record], Summary, dict[str, object]]:
    """Records, summary and scoring info recomputed by the engine from the submitted answers alone
    (explanation metrics only when ``model_kind`` is one that explains)."""
    from spotfake.harness.scoring import complete_records, records_from_responses, score_and_summarize

    responses = {rec.id: rec.response for rec in submitted if rec.response is not None}
    found = records_from_responses(task, responses, None)
    records = complete_records(task, found, None)
    summary, scoring = score_and_summarize(task, records, options, model_kind=model_kind)
    return records, summary, dict(scoring)


def _tolerance(metric: str) -> float:
    return CSS_TOLERANCE if metric.startswith("css") else TOLERANCE


def _same(claimed: object, recomputed: object, metric: str) -> bool:
    if claimed is None or recomputed is None:
        return claimed is None and recomputed is None
    if isinstance(claimed, (bool, str)) or isinstance(recomputed, (bool, str)):
        return bool(claimed == recomputed)
    if not isinstance(claimed, (int, float)) or not isinstance(recomputed, (int, float)):
        return False
    a, b = float(claimed), float(recomputed)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=0.0, abs_tol=_tolerance(metric))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def compare_values(claimed: Mapping[str, object], recomputed: Mapping[str, object], where: str) -> str | None:
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


def compare_groups(
    claimed: Mapping[str, Mapping[str, object]], recomputed: Mapping[str, Mapping[str, object]], where: str
) -> str | None:
    """Compare ``{group: {metric: value}}`` dicts (per-category values or one breakdown field)."""
    for group in [*recomputed, *(g for g in claimed if g not in recomputed)]:
        if group not in claimed or group not in recomputed:
            side = "claims" if group in claimed else "lacks"
            return f"{where} {side} group {group!r} (recomputed groups: {sorted(recomputed)[:5]})"
        found = compare_values(claimed[group], recomputed[group], f"{where}[{group!r}]")
        if found:
            return found
    return None


def compare_breakdowns(
    claimed: Mapping[str, Mapping[str, Mapping[str, object]]],
    recomputed: Mapping[str, Mapping[str, Mapping[str, object]]],
) -> str | None:
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


def compare_records(
    submitted: Sequence[SubmittedRecord], records: Sequence[Record], keys: Sequence[str] = PER_SAMPLE_CHECKED
) -> str | None:
    """The first per-sample value of ``keys`` (verdict, correct, ROUGE-L, CSS) that disagrees with the
    recomputed record."""
    by_id = {r.id: r for r in records}
    for rec in submitted:
        ours = by_id[rec.id]
        for key in keys:
            claimed, recomputed = getattr(rec.record, key), getattr(ours, key)
            if rec.claims(key) and not _same(claimed, recomputed, key):
                return (
                    f"{SAMPLES_FILE} line {rec.line} (sample {rec.id[:120]!r}): claimed {key} {_fmt(claimed)} "
                    f"but recomputed {_fmt(recomputed)}"
                )
    return None


def parser_hint(claimed: Results, scoring: Mapping[str, object]) -> str:
    """A note when the submission was scored with another verdict parser version than the leaderboard's."""
    theirs = (claimed.get("scoring") or {}).get("verdict_parser")
    ours = scoring.get("verdict_parser")
    if theirs and ours and theirs != ours:
        return f" (it was scored with verdict parser {theirs}, the leaderboard has {ours})"
    return ""


def check_embedders(claimed: Results, scoring: Mapping[str, object]) -> None:
    """Refuse CSS (or CSS CLIP-77) computed with another embedder than the leaderboard's."""
    recorded = claimed.get("scoring") or {}
    for key, metric, fix in (
        ("css_embedder", "CSS", "re-score without --css-model"),
        ("css_clip77_embedder", "css_clip77", "re-score with openai/clip-vit-large-patch14"),
    ):
        theirs, ours = recorded.get(key), scoring.get(key)
        if theirs and ours and theirs != ours:
            raise SpotfakeError(
                f"{RESULTS_FILE}: {metric} was computed with embedder {theirs!r}; the leaderboard uses "
                f"{ours!r} ({fix})"
            )


def verify(
    claimed: Results,
    submitted: Sequence[SubmittedRecord],
    task: LoadedTask,
    *,
    held_out: bool = False,
    css_clip_model: Path | None = None,
) -> tuple[list[Record], Summary, dict[str, object]]:
    """Re-score the submitted answers and compare every claimed number; SpotfakeError on the first mismatch.

    ``held_out``: the task's labels are held out on this host (:mod:`.heldout`), so the submitter could
    not compute its metrics: nothing that depends on a label is compared (a refusal would reveal it), only
    the per-sample verdicts; the numbers stored are the board's own. ``css_clip_model``: the board's CLIP
    folder; without it a task asking for ``css_clip77`` is refused (:class:`NeedsClip`), as nothing is
    stored that was not recomputed."""
    from spotfake.harness.judge.metrics import without_judge

    claimed = without_judge(claimed)  # judge grades need the judge: not checked by recomputation
    check_ids_and_labels(task, submitted, labels=not held_out)
    if "css_clip77" in task.spec.metrics and not css_clip_model:
        raise NeedsClip()
    options = scoring_options(claimed, css_clip_model)
    records, summary, scoring = rescore(task, submitted, options, claimed["model"]["kind"])
    check_embedders(claimed, scoring)
    if held_out:
        reason = compare_records(submitted, records, ("verdict",))
        if reason:
            raise SpotfakeError(reason + parser_hint(claimed, scoring))
        return records, summary, scoring
    reason = (
        compare_values(claimed["metrics"], summary.metrics, RESULTS_FILE)
        or compare_groups(claimed["per_category"], summary.per_category, f"{RESULTS_FILE} per_category")
        or compare_breakdowns(claimed["breakdowns"], summary.breakdowns)
        or compare_records(submitted, records)
    )
    if reason:
        raise SpotfakeError(reason + parser_hint(claimed, scoring))
    return records, summary, scoring
