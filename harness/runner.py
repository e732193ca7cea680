"""The runner: batches samples through a model, appends records as it goes, resumes, and scores.

One way through for every run::

    samples -> (skip ids already recorded under this run key) -> shard by rank -> decode images in
    background threads -> model.predict per batch -> parse verdicts -> append records (flushed)
    -> [rank 0, after all ranks] merge -> metrics -> samples.jsonl + results.json (atomic)

``spotfake score`` enters the same path at "parse verdicts" with responses read from a file.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from spotfake.harness import distributed
from spotfake.harness.align import ImageHook, align_transform
from spotfake.harness.audit.store import audit_entry, cached_audit
from spotfake.harness.batch import peak_memory_mb, predict_batch
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.launch_index import (
    launch_signature,
    recall,
    remember,
    scoring_signature,
    unchanged_results,
)
from spotfake.harness.locking import LOCK_FILE, FolderLock
from spotfake.harness.model import LazyModel, Model
from spotfake.harness.model_kind import MODEL_KINDS
from spotfake.harness.perturb import Perturbation, image_transform
from spotfake.harness.prefetch import decoded_batches
from spotfake.harness.provenance import environment
from spotfake.harness.record_store import (
    UNSCORED_FILE,
    RecordWriter,
    counts_as_done,
    keep_previous,
    load_existing,
    rank_file,
    record_files,
)
from spotfake.harness.redaction import public_args
from spotfake.harness.results import SAMPLES_FILE, ModelInfo, write_records, write_results
from spotfake.harness.results_contract import Perturbation as PerturbationEntry
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity
from spotfake.harness.scoring import (
    ScoringOptions,
    build_results,
    complete_records,
    make_record,
    score_and_summarize,
)
from spotfake.harness.scoring.verdicts import parser_id
from spotfake.harness.seeding import seed_everything
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record, Sample
from spotfake.harness.verdict.published import parser_of

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
    retry_errors: bool = True
    """Predict again, on resume, the samples whose earlier attempt ended in an error record."""
    max_pixels: int | None = None
    """Pixel cap per decoded image (default :data:`harness.images.DEFAULT_MAX_PIXELS`)."""

    def recorded(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "limit": self.limit, "seed": self.seed, "strict": self.strict}


@dataclass
class RunOutcome:
    """What a run produced: the folder, the results (rank 0 only) and how many samples were predicted."""

    folder: Path
    results: Results | None
    n_predicted: int
    n_reused: int
    n_retried: int = 0
    model_built: bool = True


MEASURED = "counted at run time: unique parameters of the adapter's torch modules"
"""The note beside a parameter count the runner measured."""


def model_info(model: Model, args: Mapping[str, Any]) -> ModelInfo:
    """The model's identity for results and run keys, and its parameter count (which no key hashes)."""
    if model.kind is None:
        raise SpotfakeError(
            f"model {model.name!r} declares no kind: give its class a kind attribute "
            f"({', '.join(MODEL_KINDS)}) or register it with kind=..."
        )
    return ModelInfo(
        name=model.name,
        kind=model.kind,
        args=public_args(args),
        settings=model.settings(),
        fingerprint=model.fingerprint(),
        parameters=(count := model.parameter_count()),
        parameters_note=MEASURED if count is not None else model.no_parameters,
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


def _image_hook(task: LoadedTask, perturbation: Perturbation | None) -> ImageHook | None:
    """The task's alignment (``align=``), then the perturbation, applied to each sample's decoded images."""
    align = align_transform(task.args.get("align"), task.samples)
    perturb = image_transform(perturbation)
    if align is None or perturb is None:
        return align or perturb
    return lambda sample_id, images: perturb(sample_id, align(sample_id, images))


def _order_for_throughput(samples: Sequence[Sample]) -> list[Sample]:
    """Group samples of similar prompt length so that padded batches waste little (stable order)."""
    return sorted(samples, key=lambda s: (len(s.prompt), len(s.images)))


def run(
    model: Model | LazyModel, model_args: Mapping[str, Any], task: LoadedTask, options: RunOptions
) -> RunOutcome:
    """Evaluate ``model`` on ``task``; resumable, data-parallel under torchrun; returns the outcome.

    The run folder is locked for the whole run. A :class:`LazyModel` is built only when something is left
    to predict and the folder's launch index does not already know its run key. With a calibration split
    requested (``--threshold calibrate=SPLIT``) the model is run on that split first
    (:mod:`harness.calibrate`).
    """
    if options.scoring.calibration is not None:  # --threshold calibrate=SPLIT: that split's run comes first
        from spotfake.harness.calibrate import calibrated_options

        options = calibrated_options(model, model_args, task, options, run)
    ctx = distributed.current()
    task = limited(task, options.limit)
    identity = RunIdentity.of(model.name, model_args, task, options.perturbation)
    folder = identity.folder(options.output_dir)
    lock_name = LOCK_FILE if ctx.rank == 0 else f"{LOCK_FILE}.rank{ctx.rank}"
    with FolderLock(folder, what="run folder", name=lock_name):
        return _run_locked(model, model_args, task, options, identity, folder, ctx)


def _identity(
    model: Model | LazyModel,
    model_args: Mapping[str, Any],
    identity: RunIdentity,
    options: RunOptions,
    folder: Path,
) -> tuple[ModelInfo, str, str | None, dict[str, Any] | None]:
    """``(model identity, run key, launch signature, index entry)``: from the folder's launch index when
    it knows this launch (nothing built), else from the model itself (entry None)."""
    signature = None
    if isinstance(model, LazyModel):
        signature = launch_signature(model.name, model.args, model.target, identity.launch_fields())
        if options.resume:
            known = recall(folder, signature)
            if known is not None:
                return known[0], known[1], signature, known[2]
    built = model.get() if isinstance(model, LazyModel) else model
    info = model_info(built, model_args)
    return info, identity.with_fingerprint(info.fingerprint).key, signature, None


def _batch_size(model: Model | LazyModel, options: RunOptions, entry: Mapping[str, Any] | None) -> int:
    """--batch-size, else the model's own; for a model never built, the one its last run used."""
    if options.batch_size:
        return options.batch_size
    if isinstance(model, LazyModel) and not model.built:
        remembered = (entry or {}).get("batch_size")
        ok = isinstance(remembered, int) and not isinstance(remembered, bool) and remembered > 0
        return int(remembered) if ok else Model.batch_size  # type: ignore[arg-type]
    return (model.get() if isinstance(model, LazyModel) else model).batch_size


def _plan(
    folder: Path, key: str, task: LoadedTask, options: RunOptions, ctx: distributed.DistContext
) -> tuple[list[Sample], int, int]:
    """This rank's samples still to predict under ``key``, how many are reused, how many are retried."""
    done: dict[str, Record] = {}
    n_retried = 0
    if options.resume:
        same, _ = load_existing(folder, key)
        done = {i: r for i, r in same.items() if counts_as_done(r, retry_errors=options.retry_errors)}
        n_retried = sum(1 for r in same.values() if r.error is not None and r.id not in done)
    shard = task.samples[ctx.rank :: ctx.world_size]
    todo = _order_for_throughput([s for s in shard if s.id not in done])
    return todo, len(shard) - len(todo), n_retried


def _run_locked(
    model: Model | LazyModel,
    model_args: Mapping[str, Any],
    task: LoadedTask,
    options: RunOptions,
    identity: RunIdentity,
    folder: Path,
    ctx: distributed.DistContext,
) -> RunOutcome:
    seed_everything(options.seed)
    audit = cached_audit(task)
    if audit is not None and audit.get("flagged") and ctx.is_main:
        log.warning(
            "%s: a format-only baseline tells its classes apart (AUC %.3f, spotfake audit): the numbers may "
            "reflect file formats or sizes rather than content; see docs/protocols.md",
            task.spec.name,
            audit.get("format_only_auc") or 0.0,
        )
    info, key, signature, entry = _identity(model, model_args, identity, options, folder)
    todo, n_reused, n_retried = _plan(folder, key, task, options, ctx)
    if todo and isinstance(model, LazyModel) and entry is not None:
        # The model is built anyway, so its own fingerprint decides the key, not the launch index.
        info = model_info(model.get(), model_args)
        real = identity.with_fingerprint(info.fingerprint).key
        if real != key:
            key, entry = real, None
            todo, n_reused, n_retried = _plan(folder, key, task, options, ctx)
    if n_retried:
        log.warning(
            "%s: retrying %d sample(s) whose earlier attempt ended in an error (--no-retry-errors keeps them)",
            folder,
            n_retried,
        )

    started = time.perf_counter()
    predict_s = 0.0
    tokens = 0
    batch_size = _batch_size(model, options, entry)
    if todo:
        predictor = model.get() if isinstance(model, LazyModel) else model
        from tqdm import tqdm

        bar = tqdm(
            total=len(todo),
            desc=f"{info.name} on {task.spec.name}" + (f" [rank {ctx.rank}]" if ctx.distributed else ""),
            unit="sample",
            disable=not options.progress or None,
            file=sys.stderr,
            leave=False,
        )
        with RecordWriter(rank_file(folder, ctx.rank, ctx.world_size)) as writer:
            batches = decoded_batches(
                todo,
                batch_size,
                needs_images=predictor.needs_images,
                workers=options.workers,
                transform=_image_hook(task, options.perturbation),
                max_pixels=options.max_pixels,
            )
            for batch in batches:
                t0 = time.perf_counter()
                responses = predict_batch(predictor, batch, options.strict)
                predict_s += time.perf_counter() - t0
                records = [
                    make_record(sample, resp, key)
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
        "n_retried": n_retried,
        "samples_per_s": round(len(todo) / wall_s, 3) if todo and wall_s > 0 else None,
        "tokens_per_s": round(tokens / predict_s, 3) if tokens and predict_s > 0 else None,
        "world_size": ctx.world_size,
        **{k: round(v, 1) for k, v in peak_memory_mb().items()},
    }

    distributed.barrier(ctx)
    results = None
    if ctx.is_main:
        settings = {**options.recorded(), "batch_size": batch_size, "world_size": ctx.world_size}
        # what shapes results.json besides the records: a new parser version or kind re-scores the run
        parser = parser_id(parser_of(task.args))
        kept = audit_entry(audit) if audit is not None else None
        scoring = scoring_signature(
            options.scoring, task.spec, len(task.samples), settings, key, parser, info.kind, kept
        )
        # nothing new here nor from another rank (per-rank files exist only until a merge)
        merged = all(p.name in (SAMPLES_FILE, UNSCORED_FILE) for p in record_files(folder))
        kept_results = unchanged_results(folder, entry, scoring) if not todo and merged and entry else None
        if kept_results is not None:
            # nothing new: the file this run wrote (and validated) last time stands, byte for byte
            results = cast(Results, kept_results)
        else:
            results = finalize(
                task,
                info,
                folder,
                key,
                options.scoring,
                settings=settings,
                timing=timing,
                perturbation=options.perturbation,
                audit=audit,
            )
            remember(folder, signature, info, key, scoring, batch_size=batch_size)
    distributed.barrier(ctx)
    built = not isinstance(model, LazyModel) or model.built
    return RunOutcome(
        folder=folder,
        results=results,
        n_predicted=len(todo),
        n_reused=n_reused,
        n_retried=n_retried,
        model_built=built,
    )


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
    audit: Mapping[str, Any] | None = None,
) -> Results:
    """Merge every records file of ``folder`` (or use ``found``), score, and write both output files.

    Records written under another run key are kept in ``samples.previous-<key>.jsonl`` (one file per
    key), never dropped, and found again when that key comes back. Scoring time goes into ``timing``.
    """
    started = time.perf_counter()
    current, other = load_existing(folder, key)
    if found is not None:  # re-scored responses replace this key's records; other keys' are kept
        current = dict(found)
    keep_previous(folder, key, other)
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
        timing={**timing, "scoring_s": round(time.perf_counter() - started, 4)},
        key=key,
    )
    if perturbation is not None:
        results["perturbation"] = cast(PerturbationEntry, perturbation.describe())
    if audit is not None:
        results["audit"] = audit_entry(dict(audit))
    write_results(folder, results)
    return results
