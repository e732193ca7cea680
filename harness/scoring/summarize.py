"""Metrics orchestration: verdicts derived, per-sample metric fields filled, the summary computed."""

from __future__ import annotations

from spotfake.harness.metrics.summary import Summary
from spotfake.harness.model_kind import explains
from spotfake.harness.run_identity import TaskIdentity
from spotfake.harness.scoring.options import ScoringOptions
from spotfake.harness.scoring.reasoning import mark_reasoning
from spotfake.harness.scoring.thresholds import checked_calibration, with_calibrated
from spotfake.harness.scoring.verdicts import derive_verdicts
from spotfake.harness.task import LoadedTask
from spotfake.harness.types import Record


def score_and_summarize(
    task: LoadedTask, records: list[Record], options: ScoringOptions, *, model_kind: str = "lmm"
) -> tuple[Summary, dict[str, object]]:
    """Derive every verdict from its response, fill per-sample metric fields and compute the summary;
    returns ``(summary, scoring_info)``. Reasoning lengths and cut answers are derived with the verdicts
    (:mod:`harness.scoring.reasoning`); the per-sample metrics see a reasoning answer's text without its
    tags (:func:`harness.metrics.record_fields.scored_text`).

    ``model_kind`` decides whether explanation metrics apply (:func:`harness.model_kind.explains`); for
    models that do not explain their values go to ``verdict_only_floor`` instead.
    """
    from spotfake.harness import metrics as m
    from spotfake.harness.metrics.explanation_variants import clip_text_scorer, variant_info
    from spotfake.harness.metrics.localisation import scoring_info as localisation_info
    from spotfake.harness.regions.overlap import TruthRoots

    calibration = checked_calibration(options.calibration, TaskIdentity.of(task))  # never the test data's
    parser_info = derive_verdicts(task, records, options.threshold)
    reasoning_info = mark_reasoning(records)
    spec = task.spec
    references = {s.id: s.references for s in task.samples if s.references}
    uses = {f for name in spec.metrics for f in m.metric_def(name).uses}
    css_scorer = None
    has_text = any(r.response for r in records if r.id in references)
    if "css" in uses and references and has_text:
        css_scorer = m.CssScorer(model_path=options.css_model, cache_dir=options.css_cache_dir)
    clip_scorer = None
    if "css_clip77" in uses and references and has_text:
        clip_scorer = clip_text_scorer(options.css_clip_model, options.css_cache_dir)
    m.score_records(
        records,
        references,
        answer_kind=spec.answer_kind,
        metrics=spec.metrics,
        css_scorer=css_scorer,
        explains=explains(model_kind),
        scorers={"css_clip77": clip_scorer} if clip_scorer is not None else None,
        roots=TruthRoots.of(task.data_root, task.args.get("cache_dir")),
    )
    summary = m.summarize(
        records,
        answer_kind=spec.answer_kind,
        metrics=with_calibrated(spec.metrics, calibration),
        breakdowns=spec.breakdowns,
        n_bootstrap=options.n_bootstrap,
        seed=options.seed,
        confidence=options.confidence,
        explains=explains(model_kind),
        calibrated_threshold=None if calibration is None else calibration.threshold,
    )
    scoring: dict[str, object] = {
        "verdict_parser": parser_info["verdict_parser"],
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
    scoring.update(variant_info(spec.metrics, clip_scorer))
    scoring.update(localisation_info(spec.metrics))
    scoring.update(parser_info)
    if task.metrics_requested is not None:  # the --metrics expression that chose the task's metrics
        scoring["metrics_requested"] = task.metrics_requested
    scoring.update(reasoning_info)
    if calibration is not None:
        scoring["calibration"] = calibration.entry()
    return summary, scoring
