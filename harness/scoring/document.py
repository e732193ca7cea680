"""The results document: ``results.json`` (schema v1) assembled from its parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from spotfake.harness import __version__
from spotfake.harness.metrics.summary import Summary
from spotfake.harness.results import SCHEMA_VERSION, ModelInfo, utc_now
from spotfake.harness.results_contract import Results, Source
from spotfake.harness.run_identity import TaskIdentity
from spotfake.harness.task import LoadedTask


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
            "parameters": model.parameters,
            **({"parameters_note": model.parameters_note} if model.parameters_note else {}),
        },
        "task": TaskIdentity.of(task).entry(task.spec.answer_kind, len(task.samples)),
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
