"""A stored verdict is a cache, never the truth: every scoring path derives verdicts from the responses.

The reproduction from review: run ``always-fake`` on a small task, rewrite every stored verdict to
``real`` while the responses still say "This is a fake image.", and re-run; the accuracy must not move.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TOY_TASK

from spotfake.harness.cli import main
from spotfake.harness.results import SAMPLES_FILE

RUN = ["--task", str(TOY_TASK), "--task-args", "n=20", "--quiet", "--bootstrap", "0"]


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str = "always-fake") -> dict:
    code = main(["run", "--model", model, *RUN, "--output-dir", str(tmp_path / "runs")])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return json.loads((tmp_path / "runs" / model / "toy" / "results.json").read_text())


def _rewrite_verdicts(samples: Path, verdict: str) -> int:
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    for row in rows:
        assert row["response"] == "This is a fake image."
        row["verdict"] = verdict
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def test_rewritten_stored_verdicts_change_no_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _run(tmp_path, capsys)
    folder = tmp_path / "runs" / "always-fake" / "toy"
    fake_share = first["metrics"]["acc"]
    assert 0.0 < fake_share < 1.0
    assert _rewrite_verdicts(folder / SAMPLES_FILE, "real") == 20
    (folder / "results.json").unlink()  # the run must score again from its records

    again = _run(tmp_path, capsys)
    assert again["timing"]["n_predicted"] == 0  # nothing predicted: the records were reused ...
    assert again["metrics"]["acc"] == fake_share  # ... and their verdicts derived again, not trusted
    stored = {json.loads(line)["verdict"] for line in (folder / SAMPLES_FILE).read_text().splitlines()}
    assert stored == {"fake"}  # the cache is rebuilt with the parser results.json names


def test_run_score_and_resume_agree_from_the_same_responses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _run(tmp_path, capsys)
    folder = tmp_path / "runs" / "always-fake" / "toy"
    _rewrite_verdicts(folder / SAMPLES_FILE, "real")
    predictions = tmp_path / "answers.jsonl"
    predictions.write_text((folder / SAMPLES_FILE).read_text())  # rows with id, response and a wrong verdict
    code = main(
        ["score", "--task", str(TOY_TASK), "--predictions", str(predictions), "--model-name", "scored"]
        + ["--model-kind", "baseline", "--bootstrap", "0", "--output-dir", str(tmp_path / "scored")]
    )
    assert code == 0, capsys.readouterr().err
    scored = json.loads((tmp_path / "scored" / "scored" / "toy" / "results.json").read_text())
    assert scored["metrics"] == first["metrics"]
    assert scored["scoring"]["verdict_parser"] == first["scoring"]["verdict_parser"]


def test_a_new_parser_version_rescores_a_finished_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from spotfake.harness import verdict

    first = _run(tmp_path, capsys)
    monkeypatch.setattr(verdict, "PARSER_VERSION", "spotfake-verdict-test")
    again = _run(tmp_path, capsys)
    assert again["timing"]["n_predicted"] == 0  # the run key has no parser version: nothing is predicted
    assert again["run_key"] == first["run_key"]
    assert again["scoring"]["verdict_parser"] == "spotfake-verdict-test"  # but it is scored anew
    assert again["metrics"] == first["metrics"]


def test_a_submission_rescore_derives_verdicts_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spotfake.harness.scoring import ScoringOptions
    from spotfake.harness.task import load_task
    from spotfake.leaderboard.submission.parse import parse_samples
    from spotfake.leaderboard.submission.verify import rescore

    first = _run(tmp_path, capsys)
    samples = tmp_path / "runs" / "always-fake" / "toy" / SAMPLES_FILE
    _rewrite_verdicts(samples, "real")
    submitted = parse_samples(samples.read_bytes())
    assert {s.record.verdict for s in submitted} == {"real"}
    records, summary, _ = rescore(
        load_task(str(TOY_TASK)), submitted, ScoringOptions(n_bootstrap=0), "baseline"
    )
    assert summary.metrics["acc"] == first["metrics"]["acc"]
    assert {r.verdict for r in records} == {"fake"}
