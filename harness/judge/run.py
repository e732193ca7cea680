"""``spotfake judge RUN_DIR``: grade a run's explanations, write ``judge.jsonl``, add the judge metrics.

The run folder must hold ``results.json`` and ``samples.jsonl`` from ``spotfake run`` or ``spotfake
score``. Its task is loaded again (for images and reference explanations) and must have the same data
fingerprint. Per-sample grades go to ``judge.jsonl`` next to ``samples.jsonl``; ``results.json`` gains
the metrics ``judge`` and ``judge_gated`` (value, bootstrap interval, per-category and breakdown
values, counts ``n_judged`` / ``n_judge_failures``) and ``scoring.judge`` (judge model, endpoint host,
rubric name, version and scale, prompt sha256, tokens used). Everything is written only once every grade
is in; a stop or a kill leaves finished grades in the cache, and the same command resumes from there.

The text graded is each answer's explanation without reasoning markup (a ``<think>R</think><answer>A
</answer>`` answer is graded on R, then A; :func:`harness.verdict.reasoning.explanation_text`); the
grade stays tied to the whole answer recorded (``answer_sha256`` in ``judge.jsonl``). A rubric of fake
images with annotations (``rubric=loki``) grades, and averages over, the run's fake samples that have
reference annotations only.

The run folder is locked for the whole of it (:class:`harness.locking.FolderLock`, as ``spotfake run``
and ``spotfake score`` lock it): a judge never starts on a folder another writer holds, and no writer
starts while it works. ``results.json`` is read again just before it is written, and a file that changed
meanwhile (a writer that does not lock) is kept: the judge stops with one line, its grades cached. A
``--limit`` run is judged over the samples it ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.judge.grader import Grader, Job
from spotfake.harness.judge.grades import JUDGE_FILE, grade_line
from spotfake.harness.judge.metrics import has_explanation, judge_summary, without_judge
from spotfake.harness.judge.rubrics import Rubric
from spotfake.harness.judge.settings import JudgeSettings
from spotfake.harness.results_contract import Results
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record
from spotfake.harness.verdict.reasoning import explanation_text


@dataclass
class JudgeOutcome:
    """What judging one run folder did and found."""

    folder: Path
    metrics: dict[str, Any]
    requests: int
    cache_hits: int


def load_run(
    folder: Path, data_root: str | None, task: LoadedTask | str | None = None
) -> tuple[Results, list[Record], LoadedTask]:
    """``(results, complete records in task order, loaded task)`` of a run folder. ``task``: the task
    (loaded, or a name or YAML path) when the run's own task name is not registered (a task YAML file).
    A ``--limit`` run's task is cut to the samples it ran (``settings.limit``), as the run cut it."""
    from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE, read_records, read_results
    from spotfake.harness.runner import limited
    from spotfake.harness.scoring import complete_records
    from spotfake.harness.task import load_task

    if not (folder / RESULTS_FILE).is_file() or not (folder / SAMPLES_FILE).is_file():
        raise SpotfakeError(f"{folder}: not a run folder (needs {RESULTS_FILE} and {SAMPLES_FILE})")
    results = read_results(folder / RESULTS_FILE)
    if results.get("source") == "reported":
        raise SpotfakeError(f"{folder}: a reported row has no explanations to judge")
    info = results["task"]
    if not isinstance(task, LoadedTask):
        task = load_task(task or info["name"], data_root, dict(info.get("args") or {}))
    if task.spec.name != info["name"]:
        raise SpotfakeError(f"{folder}: a run of task {info['name']}, not {task.spec.name}")
    wanted = info.get("data_fingerprint")
    if wanted and wanted != task.data_fingerprint:
        raise SpotfakeError(
            f"{folder}: the task data differs from the run's (fingerprint {task.data_fingerprint} vs "
            f"{wanted}); pass the --data-root the run used"
        )
    task = limited(task, _limit(results, folder))
    found = {r.id: r for r in read_records(folder / SAMPLES_FILE)}
    known = {s.id for s in task.samples}
    unknown = next((sid for sid in found if sid not in known), None)
    if unknown is not None:
        raise SpotfakeError(f"{folder / SAMPLES_FILE}: sample {unknown!r} is not in task {info['name']}")
    return results, complete_records(task, found, results.get("run_key")), task


def _limit(results: Results, folder: Path) -> int | None:
    """The run's ``--limit`` (``settings.limit``), or None."""
    limit = (results.get("settings") or {}).get("limit")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise SpotfakeError(f"{folder}: settings.limit must be a positive integer or null, got {limit!r}")
    return limit


def in_population(records: list[Record], task: LoadedTask, rubric: Rubric) -> list[Record]:
    """The records whose samples ``rubric`` grades (all of them, except under a rubric of fake images
    with annotations: LOKI's)."""
    samples = {s.id: s for s in task.samples}
    return [r for r in records if rubric.applies(samples[r.id].label, samples[r.id].references)]


def jobs_of(records: list[Record], task: LoadedTask, perturbation: str | None = None) -> list[Job]:
    """One job per record that has an explanation (in task order); ``perturbation``: the run's. The text
    graded is the answer's explanation without reasoning markup (:func:`explanation_text`: the reasoning of
    a ``<think>...</think><answer>...</answer>`` answer, then its answer)."""
    samples = {s.id: s for s in task.samples}
    return [
        Job(
            sample_id=r.id,
            verdict=r.verdict,
            explanation=explanation_text(r.response or ""),
            references=tuple(samples[r.id].references),
            images=tuple(samples[r.id].images),
            perturbation=perturbation,
        )
        for r in records
        if has_explanation(r)
    ]


def merge_summary(results: Results, summary: dict[str, Any], judge: dict[str, Any]) -> Results:
    """``results`` with the judge summary and ``scoring.judge``; every earlier judge value is dropped first
    (a withheld metric leaves no stale interval or group behind)."""
    results = without_judge(results)
    results["metrics"].update(summary["metrics"])
    results["ci"].update(summary["ci"])
    for category, values in summary["per_category"].items():
        results["per_category"].setdefault(category, {}).update(values)
    for field_name, groups in summary["breakdowns"].items():
        target = results["breakdowns"].setdefault(field_name, {})
        for value, metrics in groups.items():
            target.setdefault(value, {}).update(metrics)
    results.setdefault("scoring", {})["judge"] = judge
    return results


def judge_run(
    folder: Path,
    settings: JudgeSettings,
    *,
    cache_dir: Path,
    data_root: str | None = None,
    task: LoadedTask | str | None = None,
) -> JudgeOutcome:
    """Grade the explanations of one run folder and update its ``results.json`` (see the module doc)."""
    from spotfake.harness.locking import FolderLock
    from spotfake.harness.results import RESULTS_FILE

    if not (folder / RESULTS_FILE).is_file():
        load_run(folder, data_root, task)  # the one-line refusal, before a lock file is made
    with FolderLock(folder, what="run folder"):
        return _judge_locked(folder, settings, cache_dir, data_root, task)


def _judge_locked(
    folder: Path,
    settings: JudgeSettings,
    cache_dir: Path,
    data_root: str | None,
    task: LoadedTask | str | None,
) -> JudgeOutcome:
    from spotfake.harness.io import atomic_write_text
    from spotfake.harness.results import RESULTS_FILE, write_results

    read_bytes = (folder / RESULTS_FILE).read_bytes()
    results, records, task = load_run(folder, data_root, task)
    rubric = settings.rubric_def
    records = in_population(records, task, rubric)
    if not records:
        raise SpotfakeError(
            f"{folder}: rubric {rubric.name} grades explanations of fake images with reference annotations, "
            f"and task {task.spec.name} has none among the run's samples; choose another rubric or task"
        )
    responses = {r.id: r.response or "" for r in records}
    perturbation = results.get("perturbation")
    jobs = jobs_of(records, task, perturbation["spec"] if perturbation else None)
    grader = Grader(settings, cache_dir)
    entries = grader.grade_all(jobs)
    values: dict[str, float | None] = {}
    lines = []
    usage: dict[str, int] = {}
    for job, entry in zip(jobs, entries, strict=True):
        if entry.get("status") == "ok":
            values[job.sample_id] = float(entry["value"])
        elif entry.get("status") == "judge_failure":
            values[job.sample_id] = None  # the lowest grade; transport errors stay out (withheld)
        for k, v in (entry.get("usage") or {}).items():
            usage[k] = usage.get(k, 0) + int(v)
        lines.append(grade_line(job.sample_id, responses[job.sample_id], entry))
    boot = (results.get("scoring") or {}).get("bootstrap") or {}
    summary = judge_summary(
        records,
        values,
        breakdowns=task.spec.breakdowns,
        n_bootstrap=int(boot.get("resamples", 1000)),
        seed=int(boot.get("seed", 0)),
        confidence=float(boot.get("confidence", 0.95)),
        answer_kind=task.spec.answer_kind,
    )
    describe = settings.describe()
    describe.update(
        {
            "population": "fake samples with references" if rubric.fake_only else "all samples",
            "n_samples": len(records),
            "n_graded": len(jobs),
            "n_failures": summary["metrics"]["n_judge_failures"],
            "usage": usage,
        }
    )
    results = merge_summary(results, summary, describe)
    if (folder / RESULTS_FILE).read_bytes() != read_bytes:
        raise SpotfakeError(
            f"{folder / RESULTS_FILE} changed while the judge worked (another writer); it is kept as it is. "
            "Run spotfake judge again: the grades are cached"
        )
    atomic_write_text(folder / JUDGE_FILE, "".join(f"{line}\n" for line in lines))
    write_results(folder, results)
    return JudgeOutcome(folder, dict(summary["metrics"]), grader.tally.requests, grader.tally.cache_hits)
