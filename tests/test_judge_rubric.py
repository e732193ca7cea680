"""The judge's pure pieces: grade parsing, prompt rendering, cache keys, settings, metrics and AUC."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from spotfake.harness.chat_client.backoff import retry_after_seconds
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.judge.cache import JudgeCache, cache_key
from spotfake.harness.judge.check import kendall_tau, separation_auc
from spotfake.harness.judge.client import endpoint_host
from spotfake.harness.judge.metrics import judge_columns, judge_summary
from spotfake.harness.judge.rubric import RUBRIC_VERSION, parse_grade, prompt_sha256, render_prompt
from spotfake.harness.judge.settings import parse_judge
from spotfake.harness.types import Record


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ('{"score": 5, "rationale": "grounded"}', 5),
        ('{"score": 1.0, "rationale": "wrong"}', 1),
        ('  {"score": 3, "rationale": "ok", "support": 4, "grounding": 9}  ', 3),
    ],
)
def test_valid_grades_are_read(text: str, score: int) -> None:
    grade = parse_grade(text)
    assert grade is not None and grade.score == score
    assert grade.value == (score - 1) / 4


def test_out_of_range_criteria_are_dropped() -> None:
    grade = parse_grade('{"score": 3, "rationale": "ok", "support": 4, "grounding": 9}')
    assert grade is not None and grade.criteria == {"support": 4}


@pytest.mark.parametrize(
    "text",
    [
        "5",
        "The explanation is good.",
        '{"score": 0, "rationale": "x"}',
        '{"score": 6, "rationale": "x"}',
        '{"score": 4.5, "rationale": "x"}',
        '{"score": "4", "rationale": "x"}',
        '{"score": true, "rationale": "x"}',
        '{"score": 4}',
        '[{"score": 4, "rationale": "x"}]',
        '{"score": NaN, "rationale": "x"}',
    ],
)
def test_invalid_grades_are_failures_not_guesses(text: str) -> None:
    assert parse_grade(text) is None


def test_prompt_is_deterministic_and_versioned() -> None:
    refs = ["This is a fake image. Six fingers."]
    a = render_prompt("fake", "Six fingers.", refs, with_image=True, tag="t0")
    assert a == render_prompt("fake", "Six fingers.", refs, with_image=True, tag="t0")
    assert "Detector verdict: fake" in a and '\nBEGIN-t0\n"Six fingers."\nEND-t0\n' in a
    assert "(none given" in render_prompt("real", "x", [], with_image=False)
    assert len(prompt_sha256()) == 64 and RUBRIC_VERSION


def test_cache_key_changes_with_each_part(tmp_path) -> None:
    base = dict(
        endpoint="http://127.0.0.1:1/v1", judge_model="m", rubric_version="1", prompt_sha256="p", sample_id="s", response="r",
        references=["ref"], image=True,
    )  # fmt: skip
    keys = {cache_key(**base)}  # type: ignore[arg-type]
    for field, other in [("endpoint", "http://127.0.0.1:2/v1"), ("judge_model", "m2"), ("rubric_version", "2"), ("prompt_sha256", "q"),
                         ("sample_id", "t"), ("response", "r2"), ("references", ["x"]), ("image", False)]:  # fmt: skip
        keys.add(cache_key(**{**base, field: other}))  # type: ignore[arg-type]
    assert len(keys) == 9


def test_cache_survives_a_torn_last_line(tmp_path) -> None:
    cache = JudgeCache(tmp_path)
    cache.put("k1", {"status": "ok", "value": 0.5})
    with (tmp_path / "judge-cache.jsonl").open("a") as handle:
        handle.write('{"key": "k2", "status": "o')
    again = JudgeCache(tmp_path)
    assert len(again) == 1 and again.get("k1") == {"status": "ok", "value": 0.5, "key": "k1"}


def test_settings_refuse_bad_input() -> None:
    with pytest.raises(SpotfakeError, match="needs model="):
        parse_judge("openai", "base_url=http://127.0.0.1:1/v1")
    with pytest.raises(SpotfakeError, match="unknown key 'temperature'"):
        parse_judge("openai", "model=m,temperature=1")
    with pytest.raises(SpotfakeError, match="SPOTFAKE_JUDGE_API_KEY"):
        parse_judge("openai", "model=m,api_key=sk-123")
    with pytest.raises(SpotfakeError, match="concurrency must be >= 1"):
        parse_judge("openai", "model=m,concurrency=0")
    with pytest.raises(SpotfakeError, match="--judge-model"):
        parse_judge("claude", "model=m")
    settings = parse_judge("openai", "base_url=https://u:pw@judge.example:8443/v1?k=1,model=m,image=false")
    assert settings.describe()["endpoint_host"] == "judge.example:8443"
    assert settings.image is False and "pw" not in json.dumps(settings.describe())


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None
    assert endpoint_host("http://127.0.0.1:8000/v1") == "127.0.0.1:8000"


def _record(i: int, correct: bool | None, text: str | None = "because", category: str = "c") -> Record:
    return Record(id=f"s{i}", label="fake", category=category, response=text, verdict="fake", correct=correct)


def test_gating_zeroes_wrong_verdicts_and_failures_count_the_lowest_grade() -> None:
    records = [_record(0, True), _record(1, False), _record(2, True, text=None), _record(3, True)]
    values = {"s0": 1.0, "s1": 1.0, "s3": None}  # s3: a judge failure
    cols = judge_columns(records, values)
    assert cols[:, 0].tolist() == [1, 1, 1, 1] and cols[:, 1].tolist() == [1, 1, 0, 0]  # s2, s3 count 0
    summary = judge_summary(records, values, n_bootstrap=200)
    metrics = summary["metrics"]
    assert metrics["judge"] == pytest.approx(2 / 4)  # type: ignore[index]
    assert metrics["judge_gated"] == pytest.approx(1 / 4)  # type: ignore[index]
    assert metrics["n_judged"] == 2 and metrics["n_judge_failures"] == 1  # type: ignore[index]
    assert metrics["judge_failure_rate"] == pytest.approx(1 / 3)  # type: ignore[index]
    lo, hi = summary["ci"]["judge"]  # type: ignore[index]
    assert 0.0 <= lo <= 2 / 4 <= hi <= 1.0
    assert summary["per_category"]["c"]["judge_gated"] == pytest.approx(1 / 4)  # type: ignore[index]
    withheld = judge_summary(records, {"s0": 1.0, "s1": 1.0}, n_bootstrap=10)["metrics"]  # s3 never graded
    assert withheld["judge"] is None and withheld["n_judge_errors"] == 1  # type: ignore[index]


def test_no_text_at_all_gives_no_judge_value() -> None:
    summary = judge_summary([_record(0, True, text=None)], {}, n_bootstrap=10)
    assert summary["metrics"]["judge"] is None and summary["ci"] == {}  # type: ignore[index]


def test_separation_auc_and_tau() -> None:
    assert separation_auc([1.0, 0.75], [0.0, 0.25]) == 1.0
    assert separation_auc([0.5], [0.5]) == 0.5
    assert separation_auc([], [0.1]) is None
    assert kendall_tau([0.0, 0.5, 1.0], [1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert kendall_tau([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]) is None
    rng = np.random.default_rng(0)
    x = rng.random(50)
    assert kendall_tau(list(x), list(-x)) == pytest.approx(-1.0)


def test_judge_metrics_are_in_the_one_registry() -> None:
    from spotfake.harness.metrics.inputs import MetricInputs
    from spotfake.harness.metrics.registry import higher_is_better, metric_def, metric_label

    assert metric_label("judge") == "Judge" and metric_label("judge_gated") == "Judge (gated)"
    assert higher_is_better("judge") and "wrong" in metric_def("judge_gated").card
    plain = MetricInputs([_record(0, True)], "verdict")
    assert np.isnan(metric_def("judge").evaluate(plain, np.ones((1, 1)))).all()  # no judge run: undefined


def test_a_perturbed_run_shows_the_judge_the_perturbed_image(tmp_path) -> None:
    from spotfake.harness.judge.grader import Grader, Job
    from spotfake.harness.task import load_task

    sample = next(s for s in load_task("demo").samples if s.references)
    clean = Job(sample.id, sample.label, "x", tuple(sample.references), tuple(sample.images))
    jpeg = Job(
        sample.id, sample.label, "x", tuple(sample.references), tuple(sample.images), perturbation="jpeg:30"
    )
    grader = Grader(parse_judge("openai", "model=m"), tmp_path)
    assert grader.key(clean) != grader.key(jpeg)
    url = grader.body(clean)["messages"][0]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert url != grader.body(jpeg)["messages"][0]["content"][0]["image_url"]["url"]
    first, second = (grader.body(clean)["messages"][0]["content"] for _ in range(2))
    assert first[:-1] == second[:-1]  # the same image bytes; the text differs only in its block's tag
    tags = [re.search(r"\nBEGIN-(\w+)\n", part["text"]).group(1) for part in (first[-1], second[-1])]  # type: ignore[union-attr]
    assert tags[0] != tags[1] and first[-1]["text"].replace(tags[0], tags[1]) == second[-1]["text"]


def test_an_unreadable_image_is_a_sample_error_without_a_request(tmp_path) -> None:
    from spotfake.harness.judge.grader import Grader, Job

    grader = Grader(parse_judge("openai", "model=m,base_url=http://127.0.0.1:9/v1"), tmp_path / "cache")
    for image in (tmp_path / "missing.png", tmp_path):
        (entry,) = grader.grade_all([Job("s1", "fake", "x", ("ref",), (image,))])
        assert entry["status"] == "error" and "s1" in entry["error"] and str(image) in entry["error"]
    assert grader.tally.requests == 0 and len(grader.cache) == 0
