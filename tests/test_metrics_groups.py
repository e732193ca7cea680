"""Metric groups and the ``--metrics`` expression: every built-in task resolves to the metrics it listed
before groups existed, groups expand in order, plugins may add groups, and bad names fail early."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TOY_TASK

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import COUNTS, MetricDef, mean_of_field, register_metric
from spotfake.harness.metrics.registry import GROUPS, metric_group_names, register_metric_group
from spotfake.harness.metrics.selection import check_expression, resolve_metrics
from spotfake.harness.registry import TASKS
from spotfake.harness.task import DEFAULT_METRICS, choose_metrics, load_spec_file, load_task

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
"""Each built-in task's metric list, in order, as its YAML spelled it out before metric groups (tasks
added since name groups from the start)."""

DEFINITIONS = Path(__file__).resolve().parents[1] / "tasks" / "definitions"


def test_every_pinned_task_is_still_defined() -> None:
    import yaml

    names = {yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in DEFINITIONS.glob("*.yaml")}
    assert set(PINNED) <= names


@pytest.mark.parametrize("task", sorted(PINNED))
def test_builtin_task_resolves_to_its_pinned_metric_list(task: str) -> None:
    assert tuple(TASKS.get(task).metrics) == PINNED[task]


def test_groups_expand_in_order_and_each_metric_comes_once() -> None:
    assert resolve_metrics(["detection", "calibration"]) == (*DETECTION, *CALIBRATION)
    assert resolve_metrics("acc,explanation,rouge_l,bleu4") == ("acc", *EXPLANATION, "bleu4")
    assert resolve_metrics(["video"]) == ("video_acc", "video_auc")
    assert resolve_metrics(["judged"]) == ("judge", "judge_gated")


def test_signed_items_change_the_default_list_and_a_plain_list_replaces_it() -> None:
    default = ("acc", "auc", "rouge_l", "bleu4")
    assert resolve_metrics("+css", default) == (*default, "css")
    assert resolve_metrics("-bleu4", default) == ("acc", "auc", "rouge_l")
    assert resolve_metrics("+calibration,-auc", default) == ("acc", "rouge_l", "bleu4", *CALIBRATION)
    assert resolve_metrics("detection,judged", default) == (*DETECTION, "judge", "judge_gated")
    assert resolve_metrics("detection,-tpr_at_fpr1", default) == DETECTION[:-1]
    assert resolve_metrics("-css", default) == default  # removing what is absent changes nothing
    with pytest.raises(SpotfakeError, match="leaves no metric"):
        resolve_metrics("-acc", ("acc",))
    with pytest.raises(SpotfakeError, match="names no metric"):
        resolve_metrics("acc,+", default)


def test_an_unknown_name_suggests_the_closest_metric_or_group() -> None:
    with pytest.raises(
        SpotfakeError, match=r"--metrics: unknown metric 'detecton'; did you mean 'detection'"
    ):
        resolve_metrics("+detecton", ("acc",))
    with pytest.raises(SpotfakeError, match="did you mean 'bleu4'"):
        check_expression("acc,-bleu")


def test_plugins_register_groups_checked_when_used() -> None:
    register_metric_group("my_group", ("acc", "css"), description="a test group")
    register_metric_group("my_broken_group", ("acc", "nope"))
    try:
        assert resolve_metrics("my_group") == ("acc", "css")
        assert "my_group" in metric_group_names()
        with pytest.raises(SpotfakeError, match="metric group 'my_broken_group' lists unknown metric 'nope'"):
            resolve_metrics("my_broken_group")
        with pytest.raises(SpotfakeError, match="already registered"):
            register_metric_group("my_group", ("acc",))
    finally:
        GROUPS.pop("my_group")
        GROUPS.pop("my_broken_group")
    with pytest.raises(SpotfakeError, match="a metric has that name"):
        register_metric_group("acc", ("acc",))
    with pytest.raises(SpotfakeError, match="a metric group has that name"):
        register_metric(MetricDef(name="detection", label="D", evaluate=mean_of_field("x")))


def test_a_task_yaml_names_groups_and_may_drop_a_member(tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    base = "name: t\nversion: 1\ndescription: d\nreader: engine_toy:read_toy\n"
    spec.write_text(base + "metrics: [detection, -eer, calibration, explanation]\n")
    assert load_spec_file(spec).metrics == (*(m for m in DETECTION if m != "eer"), *CALIBRATION, *EXPLANATION)
    spec.write_text(base)  # no metrics: the default groups
    assert load_spec_file(spec).metrics == resolve_metrics(DEFAULT_METRICS)
    assert resolve_metrics(DEFAULT_METRICS) == (*DETECTION, *CALIBRATION, *EXPLANATION)
    spec.write_text(base + "metrics: detection\n")
    with pytest.raises(SpotfakeError, match="metrics must be a list"):
        load_spec_file(spec)
    spec.write_text(base + "metrics: [detection, calibraton]\n")
    with pytest.raises(
        SpotfakeError, match=r"t\.yaml: unknown metric 'calibraton'; did you mean 'calibration'"
    ):
        load_spec_file(spec)


def test_choose_metrics_gives_a_task_whose_spec_holds_the_resolved_list() -> None:
    task = load_task(str(TOY_TASK))
    assert choose_metrics(task, None) is task
    chosen = choose_metrics(task, "-rouge_l,+calibration")
    assert chosen.spec.metrics == (*(m for m in task.spec.metrics if m != "rouge_l"), *CALIBRATION)
    assert chosen.metrics_requested == "-rouge_l,+calibration" and task.metrics_requested is None
    assert TASKS.get("demo").metrics == PINNED["demo"]  # the registered spec is left as it was


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_and_score_take_a_metrics_expression(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    common = ["--task", str(TOY_TASK), "--output-dir", str(tmp_path), "--bootstrap", "10"]
    code, _, err = run_cli(
        capsys, "run", "--model", "always-fake", *common, "--quiet", "--metrics", "-rouge_l"
    )
    assert code == 0, err
    results = json.loads((tmp_path / "always-fake" / "toy" / "results.json").read_text())
    toy = load_task(str(TOY_TASK)).spec.metrics
    assert set(results["metrics"]) == set(COUNTS) | (set(toy) - {"rouge_l"})

    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": f"s{i:05d}", "response": "fake"}) + "\n" for i in range(20)))
    code, _, err = run_cli(
        capsys, "score", "--predictions", str(preds), *common, "--metrics", "calibration,acc"
    )
    assert code == 0, err
    results = json.loads((tmp_path / "preds" / "toy" / "results.json").read_text())
    assert set(results["metrics"]) == set(COUNTS) | {"ece", "brier", "acc"}


def test_an_unknown_metric_is_one_line_and_exit_2_before_any_model_is_built(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spotfake.harness.model as model

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was built")

    monkeypatch.setattr(model, "LazyModel", no_model)
    for expression in ("+f1_fakes", "detecton", "-bleu"):
        argv = ["run", "--model", "always-fake", "--task", str(TOY_TASK), "--output-dir", str(tmp_path)]
        code, _, err = run_cli(capsys, *argv, "--metrics", expression)
        assert code == 2 and "did you mean" in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_list_metrics_shows_the_groups(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "list", "metrics", "de*")
    assert code == 0
    assert out.splitlines() == [
        f"detection      group: {', '.join(DETECTION)}  (real/fake verdict and p(fake) ranking metrics)"
    ]
