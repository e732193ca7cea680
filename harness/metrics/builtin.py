"""spotfake's own metrics, registered in the one metric registry (:mod:`harness.metrics.registry`)."""

from __future__ import annotations

from collections.abc import Callable

from spotfake.harness.metrics import calibration as c
from spotfake.harness.metrics import definitions as d
from spotfake.harness.metrics import ranking as r
from spotfake.harness.metrics import text_fields
from spotfake.harness.metrics.calibrated import ACC_CALIBRATED
from spotfake.harness.metrics.conventions import convention_metrics
from spotfake.harness.metrics.explanation_variants import GROUP as VARIANTS_GROUP
from spotfake.harness.metrics.explanation_variants import GROUP_MEMBERS as VARIANT_MEMBERS
from spotfake.harness.metrics.explanation_variants import explanation_variant_metrics
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.loki_overall import LOKI_OVERALL
from spotfake.harness.metrics.oracle import ACC_ORACLE
from spotfake.harness.metrics.registry import MetricDef, register_metric, register_metric_group
from spotfake.harness.metrics.types import FloatArray


def from_sums(fn: Callable[[FloatArray], FloatArray]) -> Callable[[MetricInputs, FloatArray], FloatArray]:
    """Wrap a function of column sums (:mod:`harness.metrics.definitions`) as a metric's ``evaluate``."""

    def evaluate(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
        return fn(inputs.sums(weights))

    evaluate.__doc__ = fn.__doc__
    return evaluate


def _sums(
    name: str, label: str, fn: Callable[[FloatArray], FloatArray], card: str, **kw: object
) -> MetricDef:
    return MetricDef(name=name, label=label, evaluate=from_sums(fn), card=card, **kw)  # type: ignore[arg-type]


def _ranked(
    name: str, label: str, fn: Callable[[MetricInputs, FloatArray], FloatArray], card: str, **kw: object
) -> MetricDef:
    return MetricDef(name=name, label=label, evaluate=fn, card=card, needs="scores", **kw)  # type: ignore[arg-type]


def builtin_metrics() -> list[MetricDef]:
    """Every built-in metric, in the order tables show them."""
    return [
        _sums(
            "acc",
            "Acc",
            d.accuracy,
            "share of labelled samples answered right (unparsed = wrong)",
            needs="verdicts",
            per_sample="correct",
        ),
        _sums("f1", "F1 (real +)", d.f1_real, "F1 with real as the positive class (FakeVLM convention)"),
        _sums("f1_fake", "F1 (fake +)", d.f1_fake, "F1 with fake as the positive class"),
        _sums("f1_macro", "F1 macro", d.f1_macro, "mean of F1 (real +) and F1 (fake +)"),
        _sums("balanced_acc", "Balanced acc", d.balanced_accuracy, "mean of real recall and fake recall"),
        _sums("acc_real", "Acc real", d.accuracy_real, "accuracy on real samples (r_acc)"),
        _sums("acc_fake", "Acc fake", d.accuracy_fake, "accuracy on fake samples (f_acc)"),
        _ranked("auc", "AUC", r.auc, "ROC AUC of p(fake), fake positive"),
        _ranked("ap", "AP", r.average_precision, "average precision of p(fake), fake positive"),
        _ranked(
            "eer",
            "EER",
            r.equal_error_rate,
            "equal error rate (FPR = FNR on the ROC, interpolated)",
            higher_is_better=False,
        ),
        _ranked("tpr_at_fpr5", "TPR@5%FPR", r.tpr_at_fpr(0.05), "fakes caught at <= 5% reals flagged"),
        _ranked("tpr_at_fpr1", "TPR@1%FPR", r.tpr_at_fpr(0.01), "fakes caught at <= 1% reals flagged"),
        *convention_metrics(),  # other tools' EER and TPR@FPR rules
        _ranked(
            "ece",
            "ECE",
            c.expected_calibration_error,
            "calibration error of p(fake), 15 equal-width bins",
            higher_is_better=False,
        ),
        _ranked(
            "brier",
            "Brier",
            c.brier_score,
            "mean squared error of p(fake)",
            higher_is_better=False,
        ),
        _sums(
            "rouge_l",
            "ROUGE-L",
            d.mean_rouge_l,
            "mean ROUGE-L F of the explanation vs the reference",
            needs="references",
            per_sample="rouge_l",
            record_fields=(text_fields.ROUGE_L,),
        ),
        _sums(
            "css",
            "CSS (MiniLM)",
            d.mean_css,
            "mean cosine similarity of explanation and reference embeddings",
            needs="references",
            per_sample="css",
            record_fields=(text_fields.CSS,),
        ),
        _sums(
            "bleu4",
            "BLEU-4",
            d.corpus_bleu4,
            "corpus BLEU-4 of explanations vs references",
            needs="references",
            record_fields=(text_fields.BLEU_STATS,),
        ),
        _sums(
            "rouge_l_gated",
            "ROUGE-L (gated)",
            d.mean_rouge_l_gated,
            "ROUGE-L, 0 where the verdict is wrong",
            needs="references",
            record_fields=(text_fields.ROUGE_L,),
        ),
        _sums(
            "css_gated",
            "CSS (MiniLM, gated)",
            d.mean_css_gated,
            "CSS, 0 where the verdict is wrong",
            needs="references",
            record_fields=(text_fields.CSS,),
        ),
        *explanation_variant_metrics(),  # papers' CSS and BLEU variants, CIDEr-D
        LOKI_OVERALL,
        ACC_ORACLE,
        ACC_CALIBRATED,
    ]


BUILTIN_GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "detection": (
        (
            *("acc", "f1", "f1_fake", "f1_macro", "balanced_acc", "acc_real", "acc_fake"),
            *("auc", "ap", "eer", "tpr_at_fpr5", "tpr_at_fpr1"),
        ),
        "real/fake verdict and p(fake) ranking metrics",
    ),
    "calibration": (("ece", "brier"), "how well p(fake) matches the observed share of fakes"),
    "explanation": (
        ("rouge_l", "css", "rouge_l_gated", "css_gated"),
        "explanation vs reference: ROUGE-L and CSS, plain and verdict-gated",
    ),
    VARIANTS_GROUP: (
        VARIANT_MEMBERS,
        "papers' BLEU and CSS variants and CIDEr-D, each under its own name (css_clip77 needs --css-clip-model)",
    ),
}
"""The built-in metric groups: name -> (members in order, description)."""


def register_builtin_metrics() -> None:
    """Register the built-in metrics and groups (called once, before any lookup)."""
    for metric in builtin_metrics():
        register_metric(metric, replace=True)
    for name, (members, description) in BUILTIN_GROUPS.items():
        register_metric_group(name, members, description=description, replace=True)
