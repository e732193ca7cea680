"""Metrics that tasks of videos and of many generators need, registered through ``spotfake.metrics``.

Video-level figures (FaceForensics++, ``ffpp``): each record is one frame and names its video in
``metadata["video"]`` (a record without one is a video of its own). A video's p(fake) is the mean of its
frames' p(fake) (a frame without a finite score counts 0.5, as at frame level), and its verdict is the
majority of its frames' verdicts (a tie, or no frame with a verdict, is "unknown" and wrong).

Weights: a metric receives a (b, n) matrix of record weights (ones, a breakdown's 0/1 mask, or bootstrap
draw counts). A video's weight in row r is the share of its frames' weight in that row (its weight sum
over its frame count), so a whole video counts 1 and a breakdown keeps or drops whole videos. The
bootstrap resamples frames, not videos, so its intervals for video-level metrics are narrower than a
video-level bootstrap would give; docs/tasks.md says so.

The aggregation (:func:`video_table`) is a pure function of the records; the metrics only weigh it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spotfake.harness.metrics.inputs import MISSING_SCORE, MetricInputs
from spotfake.harness.metrics.registry import MetricDef, register_metric, register_metric_group
from spotfake.harness.metrics.types import FloatArray
from spotfake.harness.types import Record
from spotfake.tasks.metrics_reals import mean_present, reals_metrics, recall

VIDEO_FIELD = "video"
"""The metadata field that names a record's video."""


@dataclass(frozen=True)
class VideoTable:
    """Per-video aggregates of frame records, and the (n, V) map from frames to videos."""

    videos: tuple[str, ...]
    """Video keys, in order of first appearance."""
    member: FloatArray
    """(n, V) one-hot: frame i belongs to video j."""
    n_frames: FloatArray
    """(V,) frames per video."""
    is_fake: np.ndarray
    """(V,) bool: the video is labelled fake (every frame of a video shares its label)."""
    labelled: np.ndarray
    """(V,) bool: the video has a real/fake label."""
    mean_score: FloatArray
    """(V,) mean p(fake) over the video's frames (rounded to 12 decimals, so equal means tie)."""
    vote: tuple[str | None, ...]
    """The majority verdict of the video's frames ("real", "fake", or None on a tie / no verdicts)."""


def video_key(record: Record) -> str:
    """The video a frame record belongs to (its own id when it names none), with its label, so that a
    real and a fake video can never merge."""
    video = record.metadata.get(VIDEO_FIELD) if record.metadata else None
    return f"{video if video else record.id}\t{record.label}"


def majority(verdicts: Sequence[str | None]) -> str | None:
    """ "fake" or "real" when more frames say it than the other; None on a tie or with no verdicts."""
    fake = sum(v == "fake" for v in verdicts)
    real = sum(v == "real" for v in verdicts)
    if fake == real:
        return None
    return "fake" if fake > real else "real"


def video_table(records: Sequence[Record], scores: FloatArray) -> VideoTable:
    """Group frame records by video: mean p(fake) and majority verdict per video (pure). ``scores`` is
    p(fake) per record with a missing score already :data:`MISSING_SCORE` (``MetricInputs.scores``)."""
    index: dict[str, int] = {}
    rows = np.zeros(len(records), dtype=np.int64)
    for i, record in enumerate(records):
        rows[i] = index.setdefault(video_key(record), len(index))
    n_videos = len(index)
    member = np.zeros((len(records), n_videos))
    member[np.arange(len(records)), rows] = 1.0
    n_frames = member.sum(axis=0)
    mean_score = np.divide(
        scores @ member, n_frames, out=np.full(n_videos, MISSING_SCORE), where=n_frames > 0
    )
    mean_score = np.round(mean_score, 12)  # equal means tie whatever the order of summation
    first = {int(j): records[i] for i, j in reversed(list(enumerate(rows)))}
    verdicts: list[list[str | None]] = [[] for _ in range(n_videos)]
    for record, j in zip(records, rows, strict=True):
        verdicts[int(j)].append(record.verdict)
    return VideoTable(
        videos=tuple(index),
        member=member,
        n_frames=n_frames,
        is_fake=np.array([first[j].label == "fake" for j in range(n_videos)], dtype=bool),
        labelled=np.array([first[j].label in ("real", "fake") for j in range(n_videos)], dtype=bool),
        mean_score=mean_score,
        vote=tuple(majority(v) for v in verdicts),
    )


def video_weights(table: VideoTable, weights: FloatArray) -> FloatArray:
    """(b, V): each video's share of its frames' weight in each row of ``weights`` (b, n)."""
    w = np.asarray(weights, dtype=np.float64) @ table.member
    return np.divide(w, table.n_frames, out=np.zeros_like(w), where=table.n_frames > 0)


def weighted_auc(scores: FloatArray, is_fake: np.ndarray, weights: FloatArray) -> FloatArray:
    """ROC AUC of ``scores`` (fake positive) for each row of ``weights`` (b, m): the weighted share of
    (fake, real) pairs ranked right, ties counting one half; NaN where a class has no weight."""
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if scores.size == 0:
        return np.full(w.shape[0], np.nan)
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    fake = is_fake[order]
    ws = w[:, order]
    fakes = np.add.reduceat(np.where(fake, ws, 0.0), starts, axis=1)
    reals = np.add.reduceat(np.where(fake, 0.0, ws), starts, axis=1)
    total_reals = reals.sum(axis=1, keepdims=True)
    reals_below = total_reals - np.cumsum(reals, axis=1)
    wins = (fakes * (reals_below + 0.5 * reals)).sum(axis=1)
    den = fakes.sum(axis=1) * total_reals[:, 0]
    return np.divide(wins, den, out=np.full(den.shape, np.nan), where=den > 0)


class _Cached:
    """One :class:`VideoTable` per :class:`MetricInputs` (built once, shared by the video metrics)."""

    def __init__(self) -> None:
        self._inputs: MetricInputs | None = None
        self._table: VideoTable | None = None

    def __call__(self, inputs: MetricInputs) -> VideoTable:
        if self._inputs is not inputs or self._table is None:
            self._table = video_table(inputs.records, inputs.scores)
            self._inputs = inputs
        return self._table


_table = _Cached()


def video_auc(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: video_auc.

    Definition: ROC AUC over videos, each scored by the mean p(fake) of its frames (fake positive;
        a frame without a score counts 0.5). Records name their video in ``metadata["video"]``.
        Range [0, 1], 0.5 = chance, higher is better.
    Citation: the video-level protocol of FaceForensics++ detectors, e.g. DeepfakeBench (Yan et al.,
        NeurIPS 2023), which averages frame scores per video.
    """
    table = _table(inputs)
    vw = video_weights(table, weights)[:, table.labelled]
    return weighted_auc(table.mean_score[table.labelled], table.is_fake[table.labelled], vw)


def video_acc(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: video_acc.

    Definition: share of labelled videos whose majority verdict over their frames equals their label;
        a tie or a video without any verdict is wrong. Range [0, 1], higher is better.
    """
    table = _table(inputs)
    vw = video_weights(table, weights)
    right = np.array(
        [v is not None and (v == "fake") == f for v, f in zip(table.vote, table.is_fake, strict=True)],
        dtype=np.float64,
    )
    mask = table.labelled.astype(np.float64)
    den = vw @ mask
    return np.divide(vw @ (right * mask), den, out=np.full(den.shape, np.nan), where=den > 0)


def auc_mean_category(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: auc_mean_category.

    Definition: for each category that holds fakes, the ROC AUC of p(fake) of that category's fakes
        against all real samples; then the mean over those categories (NaN ones left out). This is the
        "mean AUC over manipulation methods" of FaceForensics++ tables and the AVR row of DMimage's.
        Range [0, 1], higher is better.
    Citation: Corvi et al., ICASSP 2023 (github.com/grip-unina/DMimageDetection, metrics_evaluation.py).
    """
    records = inputs.records
    real = inputs.real
    fake = inputs.fake
    categories = sorted({r.category for r, f in zip(records, fake, strict=True) if f and r.category})
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if not categories:
        return np.full(w.shape[0], np.nan)
    cats = np.array([r.category or "" for r in records], dtype=object)
    per_category = []
    for category in categories:
        keep = real | (fake & (cats == category))
        per_category.append(weighted_auc(inputs.scores[keep], fake[keep], w[:, keep]))
    return mean_present(np.vstack(per_category))


def bacc_mean_category(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """Metric card: bacc_mean_category.

    Definition: for each category that holds fakes, the balanced accuracy of the verdicts on that
        category's fakes together with all real samples (the mean of the fake recall in the category and
        the real recall over all reals; unknown verdicts are misses, and a class without weight is left
        out, as scikit-learn's ``balanced_accuracy_score``); then the mean over those categories. On
        DMimage (category = generator family) this is the authors' "AVR" accuracy row, which
        ``metrics_evaluation.py`` computes per family at logit 0. Range [0, 1], 0.5 = a constant answer,
        higher is better.
    Citation: Corvi et al., ICASSP 2023 (github.com/grip-unina/DMimageDetection, metrics_evaluation.py).
    """
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    records = inputs.records
    right = np.array([r.verdict == r.label for r in records], dtype=np.float64)
    real_recall = recall(w, inputs.real.astype(np.float64), right)
    cats = np.array([r.category or "" for r in records], dtype=object)
    categories = sorted({c for c, f in zip(cats, inputs.fake, strict=True) if f and c})
    per_category = []
    for category in categories:
        fake_recall = recall(w, (inputs.fake & (cats == category)).astype(np.float64), right)
        both = mean_present(np.stack([fake_recall, real_recall]))
        per_category.append(np.where(np.isfinite(fake_recall), both, np.nan))
    if not per_category:
        return np.full(w.shape[0], np.nan)
    return mean_present(np.vstack(per_category))


def task_metrics() -> list[MetricDef]:
    """The metrics this package adds to the registry."""
    return [
        *reals_metrics(),
        MetricDef(
            "video_acc",
            "Video acc",
            video_acc,
            card="accuracy of each video's majority verdict over its frames",
        ),
        MetricDef(
            "video_auc",
            "Video AUC",
            video_auc,
            needs="scores",
            card="ROC AUC over videos scored by the mean p(fake) of their frames",
        ),
        MetricDef(
            "auc_mean_category",
            "mAUC",
            auc_mean_category,
            needs="scores",
            card="mean over categories of the AUC of that category's fakes against all reals",
        ),
        MetricDef(
            "bacc_mean_category",
            "mBAcc",
            bacc_mean_category,
            card="mean over categories of the balanced accuracy of that category's fakes and all reals",
        ),
    ]


def register_task_metrics() -> None:
    """Entry point ``spotfake.metrics: tasks``: these metrics, and the group ``video``; also the
    localisation tasks' metrics and groups (:mod:`harness.metrics.localisation`)."""
    from spotfake.harness.metrics.localisation import register_localisation_metrics
    from spotfake.harness.metrics.localisation_sida import register_sida_metrics

    register_localisation_metrics()
    register_sida_metrics()
    for metric in task_metrics():
        register_metric(metric)
    register_metric_group(
        "video",
        ("video_acc", "video_auc"),
        description="verdicts and p(fake) pooled over each video's frames",
    )
