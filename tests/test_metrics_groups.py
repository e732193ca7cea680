"""Metric groups and the ``--metrics`` expression: every built-in task resolves to the metrics it listed
before groups existed, groups expand in order, plugins may add groups, and bad names fail early."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotfake.harness.registry import TASKS

DETECTION = (
    *("acc", "f1", "f1_fake", "f1_macro", "balanced_acc", "acc_real", "acc_fake"),
    *("auc", "ap", "eer", "tpr_at_fpr5", "tpr_at_fpr1"),
)
CALIBRATION = ("ece", "brier")
EXPLANATION = ("rouge_l", "css", "rouge_l_gated", "css_gated")

PINNED = {
    "chameleon": (*DETECTION, *CALIBRATION),
    "ddvqa": (*DETECTION, *CALIBRATION, "rouge_l", "css", "bleu4", "rouge_l_gated", "css_gated"),
    "demo": (*DETECTION, *CALIBRATION, *EXPLANATION),
    "dmimage": (*DETECTION, *CALIBRATION, "auc_mean_category", "bacc_mean_category"),
    "fakeclue-hf": (*DETECTION, *CALIBRATION, *EXPLANATION),
    "fakeclue-images": (*DETECTION, *CALIBRATION),
    "fakeclue": (*DETECTION, *CALIBRATION, *EXPLANATION),
    "ffpp": (*DETECTION, *CALIBRATION, "auc_mean_category", "video_acc", "video_auc"),
    "forensynths": (*DETECTION, *CALIBRATION),
    "genimage": (*DETECTION, *CALIBRATION),
    "imagefolder": (*DETECTION, *CALIBRATION),
    "loki-explain": ("acc", *EXPLANATION),
    "loki-judgment": (*DETECTION, *CALIBRATION, "loki_overall"),
    "loki-mc": ("acc", "loki_overall"),
    "loki": (*DETECTION, *CALIBRATION, *EXPLANATION),
}
"""Each built-in task's metric list, in order, as its YAML spelled it out before metric groups."""

DEFINITIONS = Path(__file__).resolve().parents[1] / "tasks" / "definitions"


def test_every_builtin_task_is_pinned() -> None:
    import yaml

    names = {yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in DEFINITIONS.glob("*.yaml")}
    assert names == set(PINNED)


@pytest.mark.parametrize("task", sorted(PINNED))
def test_builtin_task_resolves_to_its_pinned_metric_list(task: str) -> None:
    assert tuple(TASKS.get(task).metrics) == PINNED[task]
