"""The runner: batches samples through a model, appends records as it goes, resumes, and scores.

One way through for every run::

    samples -> (skip ids already recorded under this run key) -> shard by rank -> decode images in
    background threads -> model.predict per batch -> parse verdicts -> append records (flushed)
    -> [rank 0, after all ranks] merge -> metrics -> samples.jsonl + results.json (atomic)

``spotfake score`` enters the same path at "parse verdicts" with responses read from a file.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from harness import distributed
from harness.errors import SpotfakeError
from harness.model import Item, Model
from harness.perturb import Perturbation, image_transform, perturbed_key, perturbed_task_folder
from harness.prefetch import Decoded, decoded_batches
from harness.provenance import environment
from harness.record_store import UNSCORED_FILE, RecordWriter, load_existing, rank_file, record_files
from harness.results import SAMPLES_FILE, ModelInfo, run_dir, write_records, write_results
from harness.results_contract import Perturbation as PerturbationEntry
from harness.results_contract import Results
from harness.scoring import (
    ScoringOptions,
    build_results,
    complete_records,
    make_record,
    records_from_responses,
    run_key,
    score_and_summarize,
)
from harness.seeding import seed_everything
from harness.task import LoadedTask
from harness.types import Record, Response, Sample
from harness.verdict.published import parser_of

log = logging.getLogger("spotfake")


@dataclass
class RunOptions:
    """Settings of one ``spotfake run`` (recorded in ``results.json['settings']``)."""

    output_dir: Path = Path("runs")
    batch_size: int | None = None
    limit: int | None = None
    seed: int = 0
    strict: bool = False
    resume: bool = True
    workers: int = 4
    progress: bool = True
    scoring: ScoringOptions = field(default_factory=ScoringOptions)
    perturbation: Perturbation | None = None
    """Applied to every decoded image before the model (``--perturb``); own folder and run key."""

    def recorded(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "limit": self.limit, "seed": self.seed, "strict": self.strict}


@dataclass
class RunOutcome:
    """What a run produced: the folder, the results (rank 0 only) and how many samples were predicted."""

    folder: Path
    results: Results | None
    n_predicted: int
    n_reused: int


def model_info(model: Model, args: Mapping[str, Any]) -> ModelInfo:
    """The model's identity for results and run keys."""
    return ModelInfo(
        name=model.name,
        kind=model.kind,
        args=dict(args),
        settings=model.settings(),
        fingerprint=model.fingerprint(),
    )


def limited(task: LoadedTask, limit: int | None) -> LoadedTask:
    """The task restricted to its first ``limit`` samples (task order), or the task itself."""
    if limit is None or limit >= len(task.samples):
        return task
    if limit <= 0:
        raise SpotfakeError(f"--limit must be positive, got {limit}")
    return LoadedTask(
        task.spec, task.samples[:limit], task.data_fingerprint, task.data_root, task.args, task.notes
    )


def _predict_batch(model: Model, batch: list[Decoded], strict: bool) -> list[Response]:
    """Responses for one decoded batch; images that failed to decode become error responses."""
    responses: list[Response | None] = [None] * len(batch)
    items: list[Item] = []
    slots: list[int] = []
    for i, (sample, images, error) in enumerate(batch):
        if error is not None:
            if strict:
                raise SpotfakeError(f"{error} (run without --strict to record it and go on)")
            responses[i] = Response(error=error)
        else:
            items.append(Item(sample=sample, images=images or []))
            slots.append(i)
    if items:
        started = time.perf_counter()
        try:
            out = model.predict(items)
        except SpotfakeError:
            raise
        except Exception as exc:
            if strict or len(items) == 1:
                raise
            log.warning("batch failed (%s: %s); retrying its samples one by one", type(exc).__name__, exc)
            out = []
            for item in items:
                try:
                    out.extend(model.predict([item]))
                except Exception as one:
                    out.append(Response(error=f"{type(one).__name__}: {one}"))
        if len(out) != len(items):
            raise SpotfakeError(
                f"model {model.name!r} returned {len(out)} responses for {len(items)} samples"
            )
        per_sample = (time.perf_counter() - started) / len(items)
        for slot, response in zip(slots, out, strict=True):
            if response.latency_s is None:
                response.latency_s = per_sample
            responses[slot] = response
    return [r if r is not None else Response(error="no response") for r in responses]


def _peak_memory_mb() -> dict[str, float]:
    peak = {"cpu_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        peak["gpu_peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def _order_for_throughput(samples: Sequence[Sample]) -> list[Sample]:
    """Group samples of similar prompt length so that padded batches waste little (stable order)."""
    return sorted(samples, key=lambda s: (len(s.prompt), len(s.images)))


def run(model: Model, model_args: Mapping[str, Any], task: LoadedTask, options: RunOptions) -> RunOutcome:
    """Evaluate ``model`` on ``task``; resumable, data-parallel under torchrun; returns the outcome."""
    ctx = distributed.current()
    seed_everything(options.seed)
    task = limited(task, options.limit)
    batch_size = options.batch_size or model.batch_size
    info = model_info(model, model_args)
    key = perturbed_key(run_key(info, task), options.perturbation)
    parser = parser_of(task.args)
    folder = run_dir(
        options.output_dir, info.name, perturbed_task_folder(task.spec.name, options.perturbation)
    )
    folder.mkdir(parents=True, exist_ok=True)

    done: dict[str, Record] = {}
    if options.resume:
        done, _ = load_existing(folder, key)
    shard = task.samples[ctx.rank :: ctx.world_size]
    todo = _order_for_throughput([s for s in shard if s.id not in done])
    n_reused = len(shard) - len(todo)

    started = time.perf_counter()
    predict_s = 0.0
    tokens = 0
    writer_path = rank_file(folder, ctx.rank, ctx.world_size)
    if todo:
        from tqdm import tqdm

        bar = tqdm(
            total=len(todo),
            desc=f"{info.name} on {task.spec.name}" + (f" [rank {ctx.rank}]" if ctx.distributed else ""),
            unit="sample",
            disable=not options.progress or None,
            file=sys.stderr,
        )
        with RecordWriter(writer_path) as writer:
            batches = decoded_batches(
                todo,
                batch_size,
                needs_images=model.needs_images,
                workers=options.workers,
                transform=image_transform(options.perturbation),
            )
            for batch in batches:
                t0 = time.perf_counter()
                responses = _predict_batch(model, batch, options.strict)
                predict_s += time.perf_counter() - t0
                records = [
                    make_record(sample, resp, task.spec.answer_kind, options.scoring.threshold, key, parser)
                    for (sample, _, _), resp in zip(batch, responses, strict=True)
                ]
                tokens += sum((r.usage or {}).get("completion_tokens", 0) for r in responses)
                writer.append(records)
                bar.update(len(records))
        bar.close()
    wall_s = time.perf_counter() - started
    timing = {
        "wall_s": round(wall_s, 4),
        "predict_s": round(predict_s, 4),
        "n_predicted": len(todo),
        "n_reused": n_reused,
        "samples_per_s": round(len(todo) / wall_s, 3) if todo and wall_s > 0 else None,
        "tokens_per_s": round(tokens / predict_s, 3) if tokens and predict_s > 0 else None,
        "world_size": ctx.world_size,
        **{k: round(v, 1) for k, v in _peak_memory_mb().items()},
    }

    distributed.barrier(ctx)
    results = None
    if ctx.is_main:
        results = finalize(
            task,
            info,
            folder,
            key,
            options.scoring,
            settings={**options.recorded(), "batch_size": batch_size, "world_size": ctx.world_size},
            timing=timing,
            perturbation=options.perturbation,
        )
    distributed.barrier(ctx)
    return RunOutcome(folder=folder, results=results, n_predicted=len(todo), n_reused=n_reused)


def finalize(
    task: LoadedTask,
    info: ModelInfo,
    folder: Path,
    key: str,
    scoring_options: ScoringOptions,
    *,
    settings: Mapping[str, Any],
    timing: Mapping[str, Any],
    found: Mapping[str, Record] | None = None,
    perturbation: Perturbation | None = None,
) -> Results:
    """Merge every records file of ``folder`` (or use ``found``), score, and write both output files.

    Records written under another run key are kept aside in ``samples.previous-<key>.jsonl`` rather than
    silently dropped.
    """
    if found is None:
        current, other = load_existing(folder, key)
        if other:
            old_key = other[0].run_key or "unknown"
            write_records(folder / f"samples.previous-{old_key}.jsonl", other)
        found = current
    task_ids = {s.id for s in task.samples}
    records = complete_records(task, {k: v for k, v in found.items() if k in task_ids}, key)
    unscored = [r for k, r in found.items() if k not in task_ids]
    summary, scoring = score_and_summarize(task, records, scoring_options, model_kind=info.kind)
    write_records(folder / SAMPLES_FILE, records)
    if unscored:
        write_records(folder / UNSCORED_FILE, unscored)
    for path in record_files(folder):
        if path.name not in (SAMPLES_FILE, UNSCORED_FILE) or (path.name == UNSCORED_FILE and not unscored):
            path.unlink()
    results = build_results(
        model=info,
        task=task,
        summary=summary,
        scoring=scoring,
        settings=settings,
        environment=environment(),
        timing=timing,
        key=key,
    )
    if perturbation is not None:
        results["perturbation"] = cast(PerturbationEntry, perturbation.describe())
    write_results(folder, results)
    return results


def score_predictions(
    task: LoadedTask,
    responses: Mapping[str, Response],
    *,
    model_name: str,
    output_dir: Path,
    scoring_options: ScoringOptions,
    source_file: str,
    fingerprint: str,
) -> tuple[Path, Results]:
    """Re-score saved predictions through the same code as a fresh run.

    Ids absent from ``responses`` count as missing; ids the task does not have are an error naming a few.
    """
    task_ids = {s.id for s in task.samples}
    unknown = [i for i in responses if i not in task_ids]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:3])
        raise SpotfakeError(
            f"{source_file}: {len(unknown)} id(s) are not in task {task.spec.name!r} (e.g. {shown}); "
            "check --task, --data-root and --task-args"
        )
    has_text = any(r.text for r in responses.values())
    info = ModelInfo(
        name=model_name,
        kind="lmm" if has_text else "expert",
        args={"predictions": Path(source_file).name},
        settings={"source": "predictions file"},
        fingerprint=fingerprint,
    )
    key = run_key(info, task)
    found = records_from_responses(task, responses, scoring_options.threshold, key)
    folder = run_dir(output_dir, model_name, task.spec.name)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = finalize(
        task,
        info,
        folder,
        key,
        scoring_options,
        settings={"batch_size": None, "limit": None, "seed": scoring_options.seed, "strict": False},
        timing={"wall_s": None, "n_predicted": 0, "scoring_s": None},
        found=found,
    )
    results["timing"]["scoring_s"] = round(time.perf_counter() - started, 4)
    write_results(folder, results)
    return folder, results
