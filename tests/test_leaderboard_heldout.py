"""Held-out labels: a task served with its test labels only on the board's host (a private file outside the
results folder). Submissions are scored there against those labels, nothing that depends on a label is
compared (a refusal would reveal it), no per-sample record is stored, and no tab shows which sample a
model got right or wrong."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fixtures.leaderboard.board import BoardPaths, build_board, copy_run, zip_run
from streamlit.testing.v1 import AppTest

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import load_task
from spotfake.leaderboard.received import files_from_folder
from spotfake.leaderboard.submission import submit
from spotfake.leaderboard.submission.heldout import read_held_out
from spotfake.leaderboard.tabs.context import HELD_OUT

pytestmark = pytest.mark.xdist_group("leaderboard_heldout")
TASK = "lbtoy-heldout"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> BoardPaths:
    return build_board(tmp_path_factory.mktemp("heldout"), TASK)


@pytest.fixture(scope="module")
def private(board: BoardPaths) -> dict[str, str]:
    """The host's labels: the public ones with every third sample's flipped (so scores must differ)."""
    flip = {"real": "fake", "fake": "real"}
    return {
        s.id: flip[str(s.label)] if i % 3 == 0 else str(s.label)
        for i, s in enumerate(load_task(TASK).samples)
    }


@pytest.fixture(scope="module")
def labels_file(board: BoardPaths, private: dict[str, str]) -> Path:
    path = board.results_dir.parent / "private" / "labels.csv"
    path.parent.mkdir()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label"])
        writer.writerows(private.items())
    return path


def _records(folder: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines() if x.strip()]


def _accuracy(folder: Path, labels: dict[str, str]) -> float:
    rows = _records(folder)
    return sum(r["verdict"] == labels[str(r["id"])] for r in rows) / len(rows)


def test_a_submission_is_scored_against_the_private_labels_and_keeps_no_records(
    board: BoardPaths, private: dict[str, str], labels_file: Path, tmp_path: Path
) -> None:
    run = board.runs_dir / "scorer" / TASK
    held = read_held_out(labels_file, tmp_path / "results")
    folder, checked = submit(files_from_folder(run), tmp_path / "results", held_out=held)
    stored = json.loads((folder / "results.json").read_text())
    public = {str(r["id"]): str(r["label"]) for r in _records(run)}
    assert stored["metrics"]["acc"] == pytest.approx(_accuracy(run, private))
    assert stored["metrics"]["acc"] != pytest.approx(_accuracy(run, public))  # not the public labels'
    assert stored["metrics"]["acc"] != pytest.approx(
        json.loads((run / "results.json").read_text())["metrics"]["acc"]
    )
    assert stored["provenance"]["held_out_labels"] is True and checked.held_out
    assert (
        "scored against the held-out labels (claimed metrics not compared)" in stored["provenance"]["checks"]
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "received.results.json",
        "received.samples.jsonl",
        "results.json",
    ]
    assert str(labels_file) not in (folder / "results.json").read_text()


def test_nothing_that_depends_on_a_label_is_compared_but_verdicts_are(
    board: BoardPaths, labels_file: Path, tmp_path: Path
) -> None:
    held = read_held_out(labels_file)
    forged = copy_run(board.runs_dir / "explainer" / TASK, tmp_path / "forged")
    rows = _records(forged)
    for row in rows:  # guessed labels and marks: a refusal naming the truth would hand it over
        row["label"], row["correct"] = "fake", True
    (forged / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    submit(files_from_folder(forged), tmp_path / "a", held_out=held)
    rows[0]["verdict"] = "real" if rows[0]["verdict"] == "fake" else "fake"
    (forged / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(SpotfakeError, match="claimed verdict"):
        submit(files_from_folder(forged), tmp_path / "b", held_out=held)


def test_a_bad_labels_file_is_one_line(board: BoardPaths, labels_file: Path, tmp_path: Path) -> None:
    inside = board.results_dir / "labels.csv"
    inside.write_text(labels_file.read_text())
    with pytest.raises(SpotfakeError, match="inside the results folder"):
        read_held_out(inside, board.results_dir)
    inside.unlink()
    lines = labels_file.read_text().splitlines()
    for text, message in [
        ("sample,label\nx,real\n", "line 1: the header must be 'id,label'"),
        (lines[0] + "\nx,maybe\n", "line 2: the label must be real or fake"),
        (lines[0] + "\nx,real\nx,fake\n", "line 3: a second row for one sample id"),
        (lines[0] + "\nx,real,extra\n", "line 2: expected two cells"),
        (lines[0] + "\n", "no rows after the header"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(SpotfakeError, match=message):
            read_held_out(bad)
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(SpotfakeError, match="1 of the 24 samples of task 'lbtoy-heldout' have no label"):
        read_held_out(short).apply(load_task(TASK))


def test_the_commands_take_the_labels_file_and_refuse_one_inside_results(
    board: BoardPaths, labels_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    run = board.runs_dir / "random" / TASK
    argv = ["submit", str(run), "--results-dir", str(results), "--arena-db", str(tmp_path / "b.sqlite3")]
    assert main([*argv, "--held-out-labels", str(labels_file)]) == 0
    assert not (results / "submitted" / "random" / TASK / "samples.jsonl").exists()
    capsys.readouterr()
    inside = results / "labels.csv"
    inside.write_text(labels_file.read_text())
    assert main([*argv, "--replace", "--held-out-labels", str(inside)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inside the results folder" in err[0]
    code = main(
        [
            "leaderboard",
            "--no-browser",
            "--results-dir",
            str(results),
            "--held-out-labels",
            f"{TASK}={inside}",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "inside the results folder" in err[0]


def _script(results_dir: str, runs_dir: str, data_root: str, labels: str, db: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(AppConfig(results_dir=Path(results_dir), runs_dir=Path(runs_dir), data_roots={"": Path(data_root)},
                   arena_db=db, held_out_labels={"lbtoy-heldout": Path(labels)}))  # fmt: skip


def _app(board: BoardPaths, labels: Path, tmp_path: Path, tab: str) -> AppTest:
    at = AppTest.from_function(
        _script, args=(str(board.results_dir), str(board.runs_dir), str(board.data_root), str(labels),
                       str(tmp_path / "board.sqlite3")), default_timeout=120,
    )  # fmt: skip
    at.session_state["tab"] = tab
    return at.run()


def _shown(at: AppTest) -> str:
    """Every text, markdown and caption on the page, joined."""
    parts = [t.value for t in at.text] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def test_no_tab_shows_per_sample_correctness_of_a_held_out_task(
    board: BoardPaths, labels_file: Path, tmp_path: Path
) -> None:
    responses = [str(r["response"]) for r in _records(board.runs_dir / "explainer" / TASK)]
    for tab in ("Explanations", "Compare two models", "Detector curves"):
        at = _app(board, labels_file, tmp_path, tab)
        assert not at.exception, [e.value for e in at.exception]
        assert any(HELD_OUT in i.value for i in at.info), tab
        shown = _shown(at)
        assert not [r for r in responses if r in shown], tab  # no per-sample answer
        assert " · right" not in shown and " · wrong" not in shown
    compare = _app(board, labels_file, tmp_path, "Compare two models")
    assert not compare.dataframe and not compare.button  # no test table, no link to the samples
    first = _app(board, labels_file, tmp_path, "Leaderboard")
    assert any(HELD_OUT in c.value for c in first.caption)  # the first screen says so


def test_an_upload_for_a_held_out_task_is_scored_on_the_host(
    board: BoardPaths, private: dict[str, str], labels_file: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    at = AppTest.from_function(
        _script, args=(str(results), str(board.runs_dir), str(board.data_root), str(labels_file),
                       str(tmp_path / "board.sqlite3")), default_timeout=120,
    )  # fmt: skip
    at.session_state["tab"] = "Submit"
    at.run()
    run = board.runs_dir / "scorer" / TASK
    at.file_uploader(key="submission_files").set_value(
        ("scorer.zip", zip_run(run, f"scorer/{TASK}"), "application/zip")
    )
    at.form_submit_button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    stored = results / "submitted" / "scorer" / TASK
    assert not (stored / "samples.jsonl").exists()
    assert json.loads((stored / "results.json").read_text())["metrics"]["acc"] == pytest.approx(
        _accuracy(run, private)
    )
