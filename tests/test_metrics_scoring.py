"""score_records(): per-record correct, rouge_l and css, filled in place, in one batch each."""

from __future__ import annotations

from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import CssScorer, score_records, summarize
from spotfake.harness.types import Record

REFS = {
    "a": ["This is a fake image. The fingers are malformed."],
    "b": ["This is a real image with natural lighting.", "A genuine photo."],
    "c": ["This is a fake image. The text is garbled."],
    "d": ["This is a fake image."],
    "e": ["   "],  # blank: counts as no reference
}


def records() -> list[Record]:
    return [
        Record(id="a", label="fake", response="Fake: the fingers look malformed.", verdict="fake"),
        Record(id="b", label="real", response="This is a real photo.", verdict="real"),
        Record(id="c", label="fake", response="It is fake, text garbled.", verdict=None, error="timeout"),
        Record(id="d", label="fake", response=None, verdict=None),  # missing
        Record(id="e", label="real", response="real", verdict="real"),
        Record(id="f", label=None, response="fake", verdict="fake"),  # no label, no reference
    ]


def test_correct_rouge_and_none_rules() -> None:
    recs = records()
    for r in recs:
        r.css = 0.123  # stale values from an earlier scoring are replaced
    score_records(recs, REFS, answer_kind="verdict", metrics=["acc", "rouge_l"])
    assert [r.correct for r in recs] == [True, True, False, False, True, None]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    assert recs[0].rouge_l == scorer.score(REFS["a"][0], recs[0].response)["rougeL"].fmeasure
    assert recs[1].rouge_l == max(scorer.score(t, recs[1].response)["rougeL"].fmeasure for t in REFS["b"])
    assert recs[2].rouge_l == 0.0  # an error scores 0 even with text
    assert recs[3].rouge_l == 0.0  # missing scores 0
    assert recs[4].rouge_l is None and recs[5].rouge_l is None  # no (usable) reference
    assert all(r.css is None for r in recs)  # css not requested
    m = summarize(recs, answer_kind="verdict", metrics=["rouge_l"], n_bootstrap=0).metrics
    assert m["n_with_reference"] == 4
    assert m["rouge_l"] == pytest.approx(sum(r.rouge_l or 0.0 for r in recs) / 4)


def test_choice_correctness_uses_the_answer_letter() -> None:
    recs = [
        Record(id="q1", label="fake", answer="B", verdict="B"),
        Record(id="q2", label="fake", answer="B", verdict="A"),
        Record(id="q3", label="fake", answer=None, verdict="A"),
    ]
    score_records(recs, {}, answer_kind="choice", metrics=["acc"])
    assert [r.correct for r in recs] == [True, False, None]


def test_unknown_metric_is_an_error() -> None:
    with pytest.raises(SpotfakeError, match="unknown metric 'cs'"):
        score_records(records(), REFS, answer_kind="verdict", metrics=["cs"])


@pytest.mark.slow
def test_css_is_filled_in_one_batch(tmp_path: Path) -> None:
    scorer = CssScorer(cache_dir=tmp_path, device="cpu")
    calls: list[int] = []
    original = scorer.score

    def counting_score(responses, references_lists, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(responses))
        return original(responses, references_lists, **kwargs)

    scorer.score = counting_score  # type: ignore[method-assign]
    recs = records()
    score_records(recs, REFS, answer_kind="verdict", metrics=["rouge_l", "css"], css_scorer=scorer)
    assert calls == [4]  # the four records with a reference, in one call
    direct = CssScorer(cache_dir=tmp_path, device="cpu").score(
        [recs[0].response, recs[1].response, "", ""], [REFS["a"], REFS["b"], REFS["c"], REFS["d"]]
    )
    assert [r.css for r in recs[:4]] == pytest.approx(direct, abs=1e-6)
    assert recs[0].css is not None and recs[0].css > 0.5
    assert recs[2].css == 0.0 and recs[3].css == 0.0
    assert recs[4].css is None and recs[5].css is None
