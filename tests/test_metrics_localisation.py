"""Localisation metrics against an independent numpy computation on the same masks: gIoU, cIoU, pixel F1,
box IoU from masks, boxes and boxes written in answers (a reasoning answer's JSON included); SIDA's
"F1" and "AUC" as its test.py computes them; intervals and breakdowns from the same weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import metric_def, metric_group, score_records, summarize
from spotfake.harness.metrics.localisation_sida import sida_class
from spotfake.harness.regions.masks import best_match_iou
from spotfake.harness.regions.rle import encode
from spotfake.harness.types import Record

H, W = 20, 30
LOC = ["giou", "ciou", "pixel_f1", "box_iou"]


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((H, W), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def truth_record(tmp_path: Path, sid: str, truth: np.ndarray, kind: str = "tampered", **kw: object) -> Record:
    path = tmp_path / f"{sid}_mask.png"
    Image.fromarray(truth.astype(np.uint8) * 255).save(path)
    return Record(id=sid, label="fake", category=kind, metadata={"kind": kind, "mask": str(path)}, **kw)  # type: ignore[arg-type]


def iou(p: np.ndarray, t: np.ndarray) -> float:
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else 1.0


def f1(p: np.ndarray, t: np.ndarray) -> float:
    total = p.sum() + t.sum()
    return float(2 * np.logical_and(p, t).sum() / total) if total else 1.0


@pytest.fixture
def case(tmp_path: Path) -> tuple[list[Record], list[tuple[np.ndarray, np.ndarray, float]]]:
    """Records with truths and predictions of every kind, and (predicted, truth, box IoU) per truth."""
    t0, t1, t2, t3, t4 = (
        rect(2, 10, 3, 12),
        rect(5, 15, 5, 25),
        rect(0, 4, 0, 4),
        rect(8, 18, 10, 20),
        rect(1, 6, 1, 6),
    )
    t2 = t2 | rect(12, 16, 20, 28)  # two regions: two truth boxes
    soft = rect(4, 12, 6, 14)
    p0 = soft  # given as RLE
    p1 = rect(5, 10, 5, 15)  # given as boxes
    p2 = rect(0, 4, 0, 2)  # written in the answer on the 0-1000 grid
    p3 = rect(8, 12, 10, 20)  # written as JSON bbox_2d inside a reasoning answer
    p4 = np.zeros((H, W), dtype=bool)  # nothing predicted
    grid = f"<box>({0 * 1000 // W},{0}),({2 * 1000 / W:.6f},{4 * 1000 / H:.6f})</box>"
    records = [
        truth_record(tmp_path, "a", t0, response="tampered", mask=encode(p0)),
        truth_record(tmp_path, "b", t1, response="tampered", boxes=[[5, 5, 15, 10]]),
        truth_record(tmp_path, "c", t2, response=f"The image is tampered. {grid}"),
        truth_record(
            tmp_path,
            "d",
            t3,
            response='<think>the sign is warped</think><answer>{"answer": "tampered", "bbox_2d": [10, 8, 20, 12]}</answer>',
        ),
        truth_record(tmp_path, "e", t4, response=None),
        Record(
            id="r", label="real", category="real", metadata={"kind": "real"}, response="The image is real"
        ),
    ]
    box = [  # truth boxes vs predicted boxes (a mask prediction: the box of its region), spelled out
        best_match_iou([(3, 2, 12, 10)], [(6, 4, 14, 12)]),
        best_match_iou([(5, 5, 25, 15)], [(5, 5, 15, 10)]),
        best_match_iou([(0, 0, 4, 4), (20, 12, 28, 16)], [(0, 0, 2, 4)]),
        best_match_iou([(10, 8, 20, 18)], [(10, 8, 20, 12)]),
    ]
    pairs = [(p0, t0, box[0]), (p1, t1, box[1]), (p2, t2, box[2]), (p3, t3, box[3]), (p4, t4, 0.0)]
    return records, pairs


def scored(records: list[Record], metrics: list[str], n_bootstrap: int = 0):  # type: ignore[no-untyped-def]
    score_records(records, {}, answer_kind="verdict", metrics=metrics)  # fields read the model's own text
    return summarize(records, answer_kind="verdict", metrics=metrics, n_bootstrap=n_bootstrap)


def test_the_four_metrics_equal_numpy_on_the_same_masks(case) -> None:  # type: ignore[no-untyped-def]
    records, pairs = case
    summary = scored(records, LOC)
    assert summary.metrics["giou"] == pytest.approx(np.mean([iou(p, t) for p, t, _ in pairs]))
    inter = sum(np.logical_and(p, t).sum() for p, t, _ in pairs)
    union = sum(np.logical_or(p, t).sum() for p, t, _ in pairs)
    assert summary.metrics["ciou"] == pytest.approx(inter / union)
    assert summary.metrics["pixel_f1"] == pytest.approx(np.mean([f1(p, t) for p, t, _ in pairs]))
    assert summary.metrics["box_iou"] == pytest.approx(np.mean([b for _, _, b in pairs]))
    assert records[-1].fields["region_overlap"] is None  # a real image has no truth region
    assert records[0].fields["region_overlap"][:4] == [
        float(np.logical_and(pairs[0][0], pairs[0][1]).sum()),
        float(np.logical_or(pairs[0][0], pairs[0][1]).sum()),
        float(pairs[0][0].sum()),
        float(pairs[0][1].sum()),
    ]
    assert records[3].response.startswith("<think>")  # the model's text is back after scoring


def test_intervals_and_breakdowns_come_from_the_same_weights(case) -> None:  # type: ignore[no-untyped-def]
    records, pairs = case
    summary = scored(records, LOC, n_bootstrap=200)
    low, high = summary.ci["giou"]
    assert low <= summary.metrics["giou"] <= high
    assert summary.per_category["tampered"]["giou"] == pytest.approx(summary.metrics["giou"])
    assert summary.per_category["real"]["giou"] is None  # no truth region among the reals
    inputs_weights = np.array([[2, 0, 1, 0, 0, 5]], dtype=float)  # a bootstrap draw, by hand
    from spotfake.harness.metrics.inputs import MetricInputs

    value = metric_def("ciou").evaluate(MetricInputs(records, "verdict"), inputs_weights)[0]
    (p0, t0, _), (p2, t2, _) = pairs[0], pairs[2]
    inter = 2 * np.logical_and(p0, t0).sum() + np.logical_and(p2, t2).sum()
    union = 2 * np.logical_or(p0, t0).sum() + np.logical_or(p2, t2).sum()
    assert value == pytest.approx(inter / union)


def test_no_truth_region_anywhere_leaves_the_metrics_undefined() -> None:
    records = [Record(id="x", label="real", response="real")]
    summary = scored(records, LOC)
    assert all(summary.metrics[name] is None for name in LOC)
    assert "undefined" in summary.null_reasons["giou"]


def test_a_prediction_of_another_shape_is_one_line(tmp_path: Path) -> None:
    record = truth_record(
        tmp_path, "a", rect(0, 5, 0, 5), response="fake", mask=encode(np.ones((W, H), bool))
    )
    with pytest.raises(SpotfakeError, match="predicted mask of sample 'a' is 20x30 .* aspect ratio"):
        scored([record], ["giou"])


def test_a_truth_given_as_polygons_and_an_image_size(tmp_path: Path) -> None:
    regions = {"size": [H, W], "refs": [[[2, 2, 9, 2, 9, 9, 2, 9]], [[20, 10, 27, 10, 27, 15, 20, 15]]]}
    meta = {"regions": json.dumps(regions)}
    record = Record(id="s", label="fake", metadata=meta, response="fake", boxes=[[2, 2, 10, 10]])
    truth = rect(2, 10, 2, 10) | rect(10, 16, 20, 28)
    summary = scored([record], LOC)
    assert summary.metrics["giou"] == pytest.approx(iou(rect(2, 10, 2, 10), truth))
    assert summary.metrics["box_iou"] == pytest.approx((64 / 64 + 0.0) / 2)
    scaled = Record(
        id="t",
        label="fake",
        metadata={**meta, "image_size": json.dumps([2 * H, 2 * W])},  # boxes given in a 2x image
        response="fake",
        boxes=[[4, 4, 20, 20]],
    )
    assert scored([scaled], ["giou"]).metrics["giou"] == pytest.approx(iou(rect(2, 10, 2, 10), truth))


def sida_reference(
    truth: list[int], pred: list[int], inter: float, union: float
) -> tuple[float, float, float]:
    """SIDA test.py's accuracy, "F1 Score" and "Approximate AUC", spelled out on a confusion matrix."""
    confusion = np.zeros((3, 3))
    for t, p in zip(truth, pred, strict=True):
        confusion[t, p] += 1
    precision, recall = [], []
    for i in range(3):
        tp = confusion[i, i]
        fp, fn = confusion[:, i].sum() - tp, confusion[i, :].sum() - tp
        precision.append(tp / (tp + fp) if tp + fp > 0 else 0.0)
        recall.append(tp / (tp + fn) if tp + fn > 0 else 0.0)
    acc = float(np.trace(confusion) / confusion.sum())
    ciou = inter / (union + 1e-10)
    return acc, 2 * ciou * acc / (ciou + acc + 1e-10), float(np.mean(precision) * np.mean(recall))


def test_sida_figures_are_computed_as_its_test_script_does(case) -> None:  # type: ignore[no-untyped-def]
    records, pairs = case
    records += [
        Record(
            id="f",
            label="fake",
            metadata={"kind": "full_synthetic"},
            response="[CLS] The image is full synthetic",
        ),
        Record(id="g", label="fake", metadata={"kind": "full_synthetic"}, response="The image is real"),
        Record(
            id="h",
            label="real",
            metadata={"kind": "real"},
            response="[CLS] This image is classified as tampered.",
        ),
    ]
    records[4].response = "[CLS] The image is real"  # e: said real, predicted no region
    metrics = ["ciou", "sida_acc3", "sida_f1", "sida_auc"]
    summary = scored(records, metrics)
    names = ["real", "full_synthetic", "tampered"]
    truth = [names.index(r.metadata["kind"]) for r in records]
    pred = [2, 2, 2, 2, 0, 0, 1, 0, 2]
    assert [r.fields["sida_class"] for r in records] == [names[p] for p in pred]
    inter = sum(np.logical_and(p, t).sum() for p, t, _ in pairs)
    union = sum(np.logical_or(p, t).sum() for p, t, _ in pairs)
    acc, sida_f1, sida_auc = sida_reference(truth, pred, inter, union)
    assert summary.metrics["sida_acc3"] == pytest.approx(acc)
    assert summary.metrics["sida_f1"] == pytest.approx(sida_f1)
    assert summary.metrics["sida_auc"] == pytest.approx(sida_auc)
    assert not any(metric_def(n).ranked for n in ("sida_acc3", "sida_f1", "sida_auc"))


@pytest.mark.parametrize(
    ("text", "verdict", "expected"),
    [
        ("[CLS] The image is tampered [SEG]", None, "tampered"),
        ("This image is classified as full synthetic.", "fake", "full_synthetic"),
        ("The image is fully-synthetic", "fake", "full_synthetic"),
        ("The image is real, not tampered", "real", "real"),
        ("Looks full_synthetic to me", None, "full_synthetic"),
        ("It is fake.", "fake", None),
        ("It is authentic.", "real", "real"),
        (None, None, None),
    ],
)
def test_the_class_an_answer_states(text: str | None, verdict: str | None, expected: str | None) -> None:
    assert sida_class(text, verdict) == expected


def test_the_groups_list_the_metrics() -> None:
    assert metric_group("localisation").metrics == ("giou", "ciou", "pixel_f1", "box_iou")  # type: ignore[union-attr]
    assert metric_group("sida").metrics == ("sida_acc3", "sida_f1", "sida_auc")  # type: ignore[union-attr]


def test_the_mask_threshold_is_recorded_only_with_a_localisation_metric() -> None:
    from spotfake.harness.metrics.localisation import scoring_info

    assert scoring_info(["acc", "rouge_l", "sida_acc3"]) == {}
    assert scoring_info(["acc", "giou"]) == scoring_info(["sida_f1"]) == {"mask_threshold": 0.5}
