"""Localisation metrics: where a model says the forgery is, against where the task says it is.

Every value comes from one per-record field, ``region_overlap`` = ``[intersection, union, predicted,
truth, box_iou]`` (:func:`harness.regions.overlap.region_overlap`: binary masks at the truth's resolution,
soft masks thresholded at 0.5, boxes rasterised; the truth from the task's metadata, the prediction from
the record's ``mask``, its ``boxes`` or the boxes written in its answer). Only records whose task gives a
truth region count (SID-Set's and So-Fake-OOD's tampered images, every SynthScars image); a record with a
truth and no prediction counts as an empty prediction.

- ``giou``: **gIoU**, the mean over images of the per-image pixel IoU |P & T| / |P | T| (an image where both
  are empty counts 1.0, LISA's and SIDA's no-object rule) — "pixel IoU per image, averaged";
- ``ciou``: **cIoU**, cumulative IoU: the sum of intersections over the sum of unions (SIDA's ``ciou``,
  LISA's ``iou_class[1]``; also what SIDA's ``test.py`` prints as "Pixel Accuracy", times 100);
- ``pixel_f1``: the mean over images of the per-image pixel F1 2|P & T| / (|P| + |T|) (1.0 when both empty);
- ``box_iou``: the mean over images of the best-match box IoU: each truth box's best IoU with any
  predicted box, averaged over the image's truth boxes.

SIDA's own "F1" and "AUC" are :mod:`harness.metrics.localisation_sida`. All are functions of record weights
(points, breakdowns and bootstrap intervals alike); the group ``localisation`` lists the four above. A run
scored with any of them records the soft-mask threshold as ``results.json['scoring']['mask_threshold']``
(:func:`scoring_info`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence

import numpy as np

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.record_fields import FieldContext, FieldValue, RecordField
from spotfake.harness.metrics.registry import MetricDef, metric_def, register_metric, register_metric_group
from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.regions.masks import THRESHOLD

FIELD = "region_overlap"
COLUMNS = ("intersection", "union", "predicted", "truth", "box_iou")


def _compute(context: FieldContext) -> Sequence[FieldValue]:
    """``[intersection, union, predicted, truth, box_iou]`` per record (None without a truth region)."""
    from spotfake.harness.regions.overlap import TruthRoots, region_overlap

    roots = context.roots or TruthRoots()
    return [region_overlap(record, record.response, roots) for record in context.records]


REGION_OVERLAP = RecordField(
    FIELD,
    "numbers",
    _compute,
    "pixels of intersection, union, predicted and truth region, and best-match box IoU (localisation)",
)

_TABLES: weakref.WeakKeyDictionary[MetricInputs, FloatArray] = weakref.WeakKeyDictionary()


def overlap_table(inputs: MetricInputs) -> FloatArray:
    """(n, 5) ``region_overlap`` of every record, a row of NaN where a record has none (built once)."""
    table = _TABLES.get(inputs)
    if table is None:
        table = np.full((len(inputs.records), len(COLUMNS)), np.nan)
        for i, record in enumerate(inputs.records):
            value = record.metric_field(FIELD)
            if value is not None:
                table[i] = value
        _TABLES[inputs] = table
    return table


def _ratio(numerator: FloatArray, denominator: FloatArray, empty: float) -> FloatArray:
    """``numerator / denominator`` elementwise, ``empty`` where the denominator is 0."""
    return np.divide(numerator, denominator, out=np.full(numerator.shape, empty), where=denominator > 0)


def weighted_mean(values: FloatArray, present: np.ndarray, weights: FloatArray) -> FloatArray:
    """Per weight row, the weighted mean of ``values`` over the ``present`` records (NaN without any)."""
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    total = w @ np.where(present, values, 0.0)
    count = w @ present.astype(np.float64)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def _columns(inputs: MetricInputs) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray, FloatArray]:
    table = overlap_table(inputs)
    present = ~np.isnan(table[:, 0])
    filled = np.where(present[:, None], table, 0.0)
    return present, filled[:, 0], filled[:, 1], filled[:, 2], filled[:, 3]


def giou(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """gIoU: mean per-image pixel IoU over the images with a truth region (both empty = 1.0)."""
    present, inter, union, _pred, _truth = _columns(inputs)
    return weighted_mean(_ratio(inter, union, 1.0), present, weights)


def ciou(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """cIoU: summed intersections over summed unions, over the images with a truth region."""
    present, inter, union, _pred, _truth = _columns(inputs)
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    total_inter, total_union = w @ np.where(present, inter, 0.0), w @ np.where(present, union, 0.0)
    empty = np.where(w @ present.astype(np.float64) > 0, 1.0, np.nan)
    return np.divide(total_inter, total_union, out=np.asarray(empty, dtype=np.float64), where=total_union > 0)


def pixel_f1(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Mean per-image pixel F1 (Dice) 2|P & T| / (|P| + |T|) over the images with a truth region."""
    present, inter, _union, pred, truth = _columns(inputs)
    return weighted_mean(_ratio(2.0 * inter, pred + truth, 1.0), present, weights)


def box_iou(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Mean per-image best-match box IoU over the images with a truth region."""
    table = overlap_table(inputs)
    present = ~np.isnan(table[:, 4])
    return weighted_mean(np.nan_to_num(table[:, 4]), present, weights)


def _metric(name: str, label: str, evaluate: object, card: str) -> MetricDef:
    return MetricDef(
        name=name,
        label=label,
        evaluate=evaluate,  # type: ignore[arg-type]
        card=card,
        needs="labels",
        record_fields=(REGION_OVERLAP,),
    )


def localisation_metrics() -> list[MetricDef]:
    """gIoU, cIoU, pixel F1 and box IoU, in the order tables show them."""
    return [
        _metric("giou", "gIoU", giou, "mean per-image pixel IoU of the predicted region (mask > 0.5)"),
        _metric("ciou", "cIoU", ciou, "cumulative pixel IoU: summed intersections / summed unions"),
        _metric("pixel_f1", "Pixel F1", pixel_f1, "mean per-image pixel F1 (Dice) of the predicted region"),
        _metric("box_iou", "Box IoU", box_iou, "mean per-image best-match IoU of predicted vs truth boxes"),
    ]


def scoring_info(metrics: Iterable[str]) -> dict[str, object]:
    """What ``results.json['scoring']`` records when one of ``metrics`` reads ``region_overlap``:
    ``mask_threshold``, the threshold on soft masks (truth masks and predicted mask images; foreground
    where the value as a fraction of full scale is above it); empty otherwise."""
    if any(FIELD in metric_def(name).uses for name in dict.fromkeys(metrics)):
        return {"mask_threshold": THRESHOLD}
    return {}


def register_localisation_metrics() -> None:
    """Register gIoU, cIoU, pixel F1 and box IoU, and the group ``localisation`` (SIDA's variants:
    :func:`harness.metrics.localisation_sida.register_sida_metrics`)."""
    for metric in localisation_metrics():
        register_metric(metric, replace=True)
    register_metric_group(
        "localisation",
        ("giou", "ciou", "pixel_f1", "box_iou"),
        description="predicted vs truth region: gIoU, cIoU, pixel F1 (mask > 0.5), best-match box IoU",
        replace=True,
    )
