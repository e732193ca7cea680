"""From responses to records to a results file: the one path that both fresh runs and re-scoring use."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from spotfake.harness import __version__
from spotfake.harness.metrics.summary import Summary
from spotfake.harness.results import SCHEMA_VERSION, ModelInfo, utc_now
from spotfake.harness.results_contract import Results, Source
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record, Response, Sample

if TYPE_CHECKING:
    from spotfake.harness.verdict.published import ParserChoice


@dataclass
class ScoringOptions:
    """How verdicts and metrics are computed (recorded in ``results.json['scoring']``)."""

    threshold: float = 0.5
    n_bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95
    css_model: str | None = None
    css_cache_dir: str | None = None


def run_key(model: ModelInfo, task: LoadedTask) -> str:
    """Hash of everything that changes a prediction: model fingerprint, task identity and data."""
    payload = {
        "model": model.fingerprint,
        "task": task.spec.name,
        "version": task.spec.version,
        "data": task.data_fingerprint,
        "args": {k: str(v) for k, v in sorted(task.args.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@lru_cache(maxsize=16384)
def _parse(
    text: str, kind: str, question: str, yes_means: str | None, choices: tuple[str, ...]
) -> str | None:
    """The verdict parser behind a cache: it is a pure function, and answers repeat a lot in practice."""
    from spotfake.harness.verdict import parse_verdict

    return parse_verdict(text, kind=kind, question=question, yes_means=yes_means, choices=choices)  # type: ignore[arg-type]


def verdict_of(
    sample: Sample,
    response: Response,
    answer_kind: str,
    threshold: float,
    parser: ParserChoice | None = None,
) -> str | None:
    """The parsed verdict of one response: from its text when there is text, else from its score.

    ``parser`` is the task's verdict parser (``harness.verdict.published``); None = spotfake's own.
    """
    if response.error is not None:
        return None
    if parser is not None and parser.published and response.text is not None:
        from spotfake.harness.verdict.published import read_published

        return read_published(parser, response.text, sample, answer_kind).verdict
    if response.text is not None and response.text.strip():
        return _parse(response.text, answer_kind, sample.prompt, sample.yes_means, tuple(sample.choices))
    if response.score is not None and answer_kind != "choice":
        return "fake" if response.score >= threshold else "real"
    return None


def make_record(
    sample: Sample,
    response: Response | None,
    answer_kind: str,
    threshold: float,
    key: str | None,
    parser: ParserChoice | None = None,
) -> Record:
    """One record for one sample; ``response=None`` makes a *missing* record (no answer recorded)."""
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
    record.verdict = verdict_of(sample, response, answer_kind, threshold, parser)
    return record


def records_from_responses(
    task: LoadedTask, responses: Mapping[str, Response], threshold: float, key: str | None
) -> dict[str, Record]:
    """Records for the given responses, keyed by sample id (ids must be the task's: callers check)."""
    from spotfake.harness.verdict.published import parser_of

    by_id = {s.id: s for s in task.samples}
    parser = parser_of(task.args)
    return {
        sid: make_record(by_id[sid], resp, task.spec.answer_kind, threshold, key, parser)
        for sid, resp in responses.items()
    }


def complete_records(task: LoadedTask, found: Mapping[str, Record], key: str | None) -> list[Record]:
    """One record per task sample in task order: the found ones, and missing placeholders for the rest.

    Labels, answers and categories always come from the task, never from the records, so a saved or
    submitted file cannot change the ground truth it is scored against.
    """
    out = []
    for sample in task.samples:
        rec = found.get(sample.id)
        if rec is None:
            out.append(make_record(sample, None, task.spec.answer_kind, 0.5, key))
            continue
        rec.label = sample.label
        rec.answer = sample.answer
        rec.category = sample.category
        rec.metadata = dict(sample.metadata)
        out.append(rec)
    return out


def model_explains(model_kind: str) -> bool:
    """Only LMMs explain: an expert's or a baseline's fixed sentence gets no explanation metric."""
    return model_kind == "lmm"


def score_and_summarize(
    task: LoadedTask, records: list[Record], options: ScoringOptions, *, model_kind: str = "lmm"
) -> tuple[Summary, dict[str, object]]:
    """Fill per-sample metric fields and compute the summary; returns ``(summary, scoring_info)``.

    ``model_kind`` decides whether explanation metrics apply (:func:`model_explains`); for models that
    do not explain their values go to ``verdict_only_floor`` instead.
    """
    from spotfake.harness import metrics as m
    from spotfake.harness.verdict import PARSER_VERSION

    spec = task.spec
    references = {s.id: s.references for s in task.samples if s.references}
    uses = {f for name in spec.metrics for f in m.metric_def(name).uses}
    css_scorer = None
    has_text = any(r.response for r in records if r.id in references)
    if "css" in uses and references and has_text:
        css_scorer = m.CssScorer(model_path=options.css_model, cache_dir=options.css_cache_dir)
    m.score_records(
        records, references, answer_kind=spec.answer_kind, metrics=spec.metrics, css_scorer=css_scorer
    )
    summary = m.summarize(
        records,
        answer_kind=spec.answer_kind,
        metrics=spec.metrics,
        breakdowns=spec.breakdowns,
        n_bootstrap=options.n_bootstrap,
        seed=options.seed,
        confidence=options.confidence,
        explains=model_explains(model_kind),
    )
    scoring = {
        "verdict_parser": PARSER_VERSION,
        "threshold": options.threshold,
        "rouge_l": "rouge-score ROUGE-L F-measure, Porter stemmer, max over references",
        "css_embedder": css_scorer.embedder_id if css_scorer is not None else None,
        "bootstrap": {
            "resamples": options.n_bootstrap,
            "seed": options.seed,
            "confidence": options.confidence,
        },
        "f1_positive_class": "real",
    }
    from spotfake.harness.verdict.published import parser_of, scoring_info

    scoring.update(scoring_info(parser_of(task.args), task.samples, records, spec.answer_kind))
    return summary, scoring


def build_results(
    *,
    model: ModelInfo,
    task: LoadedTask,
    summary: Summary,
    scoring: Mapping[str, object],
    settings: Mapping[str, object],
    environment: Mapping[str, object],
    timing: Mapping[str, object],
    key: str | None,
    source: Source = "reproduced",
) -> Results:
    """Assemble ``results.json`` (schema v1) from its parts."""
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "spotfake_version": __version__,
        "source": source,
        "model": {
            "name": model.name,
            "kind": model.kind,
            "args": dict(model.args),
            "settings": dict(model.settings),
            "fingerprint": model.fingerprint,
        },
        "task": {
            "name": task.spec.name,
            "version": task.spec.version,
            "data_fingerprint": task.data_fingerprint,
            "answer_kind": task.spec.answer_kind,
            "args": {k: str(v) for k, v in task.args.items()},
            "n": len(task.samples),
        },
        "metrics": summary.metrics,
        "ci": summary.ci,
        "per_category": summary.per_category,
        "breakdowns": summary.breakdowns,
        "null_reasons": summary.null_reasons,
        **({"verdict_only_floor": summary.verdict_only_floor} if summary.verdict_only_floor else {}),
        "scoring": dict(scoring),
        "settings": dict(settings),
        "environment": dict(environment),
        "timing": dict(timing),
        "created": utc_now(),
    }
    if key is not None:
        result["run_key"] = key
    return cast(Results, result)


def responses_from_predictions(rows: Iterable[tuple[int, object]], source: str) -> dict[str, Response]:
    """Turn JSONL prediction rows ``{"id", "response"?, "score"?}`` into responses.

    Every field is type-checked (:func:`harness.record_json.response_from_json`); duplicate ids, rows
    without an answer and a file without any row are one-line errors naming ``source`` (and the line).
    """
    from spotfake.harness.errors import SpotfakeError
    from spotfake.harness.record_json import record_id, response_from_json

    out: dict[str, Response] = {}
    for line, row in rows:
        where = f"{source} line {line}"
        if not isinstance(row, dict):
            raise SpotfakeError(f"{where}: expected a JSON object {{id, response and/or score}}")
        sid = record_id(row, where)
        if sid in out:
            raise SpotfakeError(f"{where}: duplicate id {sid!r}; keep one prediction per sample")
        response = response_from_json(row, where=f"{where} (sample {sid!r})")
        if response.text is None and response.score is None and response.error is None:
            raise SpotfakeError(f"{where}: sample {sid!r} has neither 'response' nor 'score'")
        out[sid] = response
    if not out:
        raise SpotfakeError(f"{source}: no predictions (an empty file); write one JSON object per line")
    return out
