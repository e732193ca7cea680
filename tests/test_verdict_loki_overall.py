"""LOKI's weighted overall figure (``loki_overall``) against a re-implementation of LOKI's
``aggregate_results``, and LOKI's rule end to end on the published judgment questions (../shared)."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest
from fixtures.shared import SharedData

from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.loki_overall import evaluate_loki_overall
from spotfake.harness.scoring import (
    ScoringOptions,
    complete_records,
    records_from_responses,
    score_and_summarize,
)
from spotfake.harness.task import load_task
from spotfake.harness.types import Label, Record, Response


def aggregate_results(results: list[dict[str, object]]) -> float:
    """LOKI's ``aggregate_results`` (lm_evaluate/tasks/loki.py, lines 516-651), its total, for the test."""
    fake_type_accuracy: dict[str, list[bool]] = defaultdict(list)
    real_type_accuracy: dict[str, list[bool]] = defaultdict(list)
    for result in results:
        question_type = str(result["question_type"])
        accuracy = bool(result["accuracy"])
        if "_tf_" in question_type:
            if "fake_ask" in question_type:
                fake_type_accuracy[question_type.split("_")[-1]].append(accuracy)
            elif "real_ask" in question_type:
                real_type_accuracy[question_type.split("_")[-1]].append(accuracy)
        elif "_mc_" in question_type:
            if "fake_from" in question_type:
                fake_type_accuracy[question_type.split("_")[-1]].append(accuracy)
            if "real_from" in question_type:
                real_type_accuracy[question_type.split("_")[-1]].append(accuracy)
    if len(real_type_accuracy) == 1:
        (real_values,) = real_type_accuracy.values()
        real_accuracy = sum(real_values) / len(real_values)
        total_accuracy = 0.0
        total_fake_num = 0
        for value in fake_type_accuracy.values():
            total_accuracy += len(value) * (sum(value) / len(value) + real_accuracy) / 2
            total_fake_num += len(value)
        return total_accuracy / total_fake_num
    total_accuracy, total_fake_num = 0.0, 0
    for key, fake_value in fake_type_accuracy.items():
        fake_accuracy = sum(fake_value) / len(fake_value)
        if key not in real_type_accuracy:
            real_accuracy = fake_accuracy
        else:
            real_value = real_type_accuracy[key]
            real_accuracy = sum(real_value) / len(real_value)
        total_accuracy += len(fake_value) * (fake_accuracy + real_accuracy) / 2
        total_fake_num += len(fake_value)
    return total_accuracy / total_fake_num


def _other(label: str) -> Label:
    return "real" if label == "fake" else "fake"


def make_questions(
    rng: random.Random, n: int, kind: str, categories: dict[str, tuple[Label, ...]]
) -> tuple[list[Record], list[dict[str, object]]]:
    """``n`` random questions as spotfake records and as LOKI's results; ``categories`` maps each category to
    the groups ("fake"/"real") it has questions in."""
    records, results = [], []
    names = sorted(categories)
    for i in range(n):
        category = rng.choice(names)
        group = rng.choice(categories[category])
        right = rng.random() < (0.8 if group == "fake" else 0.55) - 0.1 * names.index(category)
        if kind == "yesno":  # group = the image's truth
            asks = rng.choice(("real", "fake"))
            qtype = f"image_tf_image_{group}_ask_{asks}_{category}"
            verdict = group if right else _other(group)
            records.append(
                Record(id=f"q{i}", label=group, category=category, metadata={"asks": asks}, verdict=verdict)
            )
        else:  # group = what the question asks for; the label is the first image's truth
            answer = rng.choice("AB")
            first = group if answer == "A" else _other(group)
            qtype = f"image_mc_{group}_from_{_other(group)}_{category}"
            pick = answer if right else ("B" if answer == "A" else "A")
            records.append(
                Record(
                    id=f"q{i}",
                    label=first,
                    category=category,
                    metadata={"asks": group},
                    answer=answer,
                    verdict=pick,
                )
            )
        results.append({"question_type": qtype, "accuracy": right})
    return records, results


SCENARIOS: dict[str, dict[str, tuple[Label, ...]]] = {
    "every category has both groups": {
        "animals": ("fake", "real"),
        "doc": ("fake", "real"),
        "sence": ("fake", "real"),
    },
    "a category without real questions": {
        "animals": ("fake", "real"),
        "medicine": ("fake",),
        "doc": ("fake", "real"),
    },
    "one category with real questions": {
        "animals": ("fake", "real"),
        "medicine": ("fake",),
        "object": ("fake",),
    },
}


@pytest.mark.parametrize("kind", ["yesno", "choice"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_loki_overall_matches_loki_aggregate_results(kind: str, scenario: str) -> None:
    rng = random.Random(f"{kind}{scenario}")
    records, results = make_questions(rng, 400, kind, SCENARIOS[scenario])
    value = evaluate_loki_overall(MetricInputs(records, kind), np.ones((1, len(records))))
    assert value.shape == (1,)
    assert value[0] == pytest.approx(aggregate_results(results), abs=1e-12)
    assert value[0] != pytest.approx(
        np.mean([r["accuracy"] for r in results]), abs=1e-3
    )  # not plain accuracy


def test_loki_overall_of_a_resample_is_that_of_the_repeated_questions() -> None:
    rng = random.Random(5)
    records, results = make_questions(rng, 300, "yesno", SCENARIOS["a category without real questions"])
    counts = np.random.default_rng(0).multinomial(
        len(records), np.full(len(records), 1 / len(records)), size=3
    )
    values = evaluate_loki_overall(MetricInputs(records, "yesno"), counts.astype(float))
    for row, value in zip(counts, values, strict=True):
        repeated = [result for result, k in zip(results, row, strict=True) for _ in range(k)]
        assert value == pytest.approx(aggregate_results(repeated), abs=1e-12)


def test_loki_overall_is_undefined_without_real_questions() -> None:
    records = [Record(id="a", label="fake", category="doc", verdict="fake")]
    assert np.isnan(evaluate_loki_overall(MetricInputs(records, "verdict"), np.ones((1, 1)))[0])


def test_all_fake_answers_under_both_parsers_on_loki_judgment(shared_data: SharedData) -> None:
    root = shared_data("data", "LOKI", "data_json", "image").parents[1]
    results = {}
    for args in ({}, {"parser": "loki"}):
        task = load_task("loki-judgment", data_root=root, task_args=dict(args))
        responses = {s.id: Response(text="This is a fake image.") for s in task.samples}
        records = complete_records(task, records_from_responses(task, responses, None), None)
        summary, scoring = score_and_summarize(task, records, ScoringOptions(n_bootstrap=0))
        results[args.get("parser", "spotfake")] = (task, summary.metrics, scoring)
    task, default, scoring = results["spotfake"]
    fake_share = sum(s.label == "fake" for s in task.samples) / len(task.samples)
    assert 0.5 < fake_share < 0.7 and len(task.samples) == 4434
    assert default["acc"] == pytest.approx(
        fake_share
    )  # "fake" is right on every fake image, whatever is asked
    assert default["loki_overall"] == pytest.approx(0.5)  # every fake right, every real wrong, per category
    assert scoring["parser"] == "spotfake" and scoring["n_random_picks"] == 0
    _, loki, scoring = results["loki"]
    assert loki["acc"] == 0.0 and loki["loki_overall"] == 0.0  # LOKI's rule reads "other": never right
    assert loki["unparsed_rate"] == 1.0
    assert scoring["parser"] == "loki" and scoring["n_random_picks"] == 0
