"""Records: one per task sample, with the ground truth always taken from the task."""

from __future__ import annotations

from collections.abc import Mapping

from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record, Response, Sample


def make_record(sample: Sample, response: Response | None, key: str | None) -> Record:
    """One record for one sample; ``response=None`` makes a *missing* record (no answer recorded).

    The verdict is left unset: scoring derives it (:func:`harness.scoring.verdicts.derive_verdicts`)."""
    record = Record(
        id=sample.id,
        label=sample.label,
        category=sample.category,
        metadata=dict(sample.metadata),
        answer=sample.answer,
        run_key=key,
    )
    if response is None:
        return record
    record.response = response.text
    record.score = response.score
    record.error = response.error
    record.latency_s = response.latency_s
    record.usage = response.usage
    record.finish_reason = response.finish_reason
    record.mask = response.mask
    record.boxes = response.boxes
    return record


def records_from_responses(
    task: LoadedTask, responses: Mapping[str, Response], key: str | None
) -> dict[str, Record]:
    """Records for the given responses, keyed by sample id (ids must be the task's: callers check)."""
    by_id = {s.id: s for s in task.samples}
    return {sid: make_record(by_id[sid], resp, key) for sid, resp in responses.items()}


def complete_records(task: LoadedTask, found: Mapping[str, Record], key: str | None) -> list[Record]:
    """One record per task sample in task order: the found ones, and missing placeholders for the rest.

    Labels, answers and categories always come from the task, never from the records, so a saved or
    submitted file cannot change the ground truth it is scored against.
    """
    out = []
    for sample in task.samples:
        rec = found.get(sample.id)
        if rec is None:
            out.append(make_record(sample, None, key))
            continue
        rec.label = sample.label
        rec.answer = sample.answer
        rec.category = sample.category
        rec.metadata = dict(sample.metadata)
        out.append(rec)
    return out
