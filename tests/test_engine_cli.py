"""The command line: listing, running, scoring, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TOY_TASK

from spotfake.harness.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_models_shows_baselines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "list", "models")
    assert code == 0
    for name in ("always-fake", "always-real", "random", "fakevlm", "hf", "openai"):
        assert name in out


def test_unknown_model_suggests_the_closest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(
        capsys, "run", "--model", "alway-fake", "--task", str(TOY_TASK), "--output-dir", str(tmp_path)
    )
    assert code == 2
    assert "did you mean 'always-fake'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_run_writes_results_and_prints_a_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(
        capsys,
        "run",
        "--model",
        "always-real",
        "--task",
        str(TOY_TASK),
        "--output-dir",
        str(tmp_path),
        "--bootstrap",
        "100",
        "--quiet",
    )
    assert code == 0
    assert "always-real" in out and "Acc" in out
    assert err.strip().splitlines() == [
        f"spotfake: 1 result(s) under {tmp_path}/; open the leaderboard with: spotfake leaderboard"
    ]
    results = json.loads((tmp_path / "always-real" / "toy" / "results.json").read_text())
    assert results["metrics"]["acc"] == pytest.approx(7 / 20)  # ids 0,3,...,18 are real


def test_score_counts_absent_ids_as_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    preds = tmp_path / "mine.jsonl"
    preds.write_text(
        json.dumps({"id": "s00000", "response": "Real photo."})
        + "\n"
        + json.dumps({"id": "s00001", "score": 0.9})
        + "\n"
    )
    code, out, _ = run_cli(
        capsys,
        "score",
        "--task",
        str(TOY_TASK),
        "--predictions",
        str(preds),
        "--output-dir",
        str(tmp_path),
        "--bootstrap",
        "0",
    )
    assert code == 0 and "mine" in out
    metrics = json.loads((tmp_path / "mine" / "toy" / "results.json").read_text())["metrics"]
    assert metrics["n"] == 20 and metrics["n_missing"] == 18
    assert metrics["acc"] == pytest.approx(2 / 20)
    assert metrics["unparsed_rate"] == pytest.approx(18 / 20)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [{"id": "s00000", "response": "fake"}, {"id": "s00000", "response": "real"}],
            "duplicate id 's00000'",
        ),
        ([{"id": "nope-1", "response": "fake"}, {"id": "nope-2", "response": "real"}], "'nope-1'"),
        ([{"id": "s00001"}], "neither 'response' nor 'score'"),
        ([{"id": "s00001", "score": 3}], "p(fake) in [0, 1]"),
    ],
)
def test_bad_predictions_are_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lines: list[dict[str, object]], message: str
) -> None:
    preds = tmp_path / "bad.jsonl"
    preds.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, _, err = run_cli(
        capsys,
        "score",
        "--task",
        str(TOY_TASK),
        "--predictions",
        str(preds),
        "--output-dir",
        str(tmp_path / "o"),
    )
    assert code == 2
    assert message in err and str(preds) in err
    assert not (tmp_path / "o" / "bad").exists() or not any((tmp_path / "o" / "bad").rglob("results.json"))


def test_malformed_jsonl_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    preds = tmp_path / "broken.jsonl"
    preds.write_text('{"id": "s00000", "response": "fake"}\n{"id": "s00001", "resp\n')
    code, _, err = run_cli(capsys, "score", "--task", str(TOY_TASK), "--predictions", str(preds))
    assert code == 2 and "line 2" in err and "broken.jsonl" in err


def test_malformed_task_yaml_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: [1\n")
    code, _, err = run_cli(capsys, "run", "--model", "always-fake", "--task", str(bad))
    assert code == 2 and "bad.yaml" in err and "line" in err


def test_bad_model_args_are_explained(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "run", "--model", "random", "--model-args", "seed", "--task", str(TOY_TASK)
    )
    assert code == 2 and "key=value" in err


def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "spotfake"
    proc = subprocess.run([str(exe), "list", "models"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "always-fake" in proc.stdout


def test_list_tasks_counts_samples_under_a_data_root(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).parent / "fixtures" / "tasks" / "fakeclue_mini"
    expected = len(json.loads((root / "data_json" / "test.json").read_text()))
    code, out, _ = run_cli(capsys, "list", "tasks", "fakeclue", "--data-root", str(root))
    assert code == 0 and f"n={expected} " in out
    code, out, _ = run_cli(capsys, "list", "tasks", "fakeclue")
    assert code == 0 and "n=- " in out
