"""Submissions that pass every check but are too good to be true are flagged and ranked apart."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from fixtures.leaderboard.board import Scorer, register_task, run_models, write_fakeclue_data

from spotfake.harness.model import Item, Model
from spotfake.harness.results import read_results
from spotfake.harness.types import Record, Response
from spotfake.leaderboard.data import load_board, results_frame
from spotfake.leaderboard.received import files_from_folder
from spotfake.leaderboard.submission import submit
from spotfake.leaderboard.submission.suspicion import above_reproduced, binary_perfect, labels_copied
from spotfake.leaderboard.views import board_table

pytestmark = pytest.mark.xdist_group("leaderboard_submission")
TASK = "lbtoy-suspicion"


class Oracle(Model):
    """Reads the public label and answers it: what recomputation alone cannot tell from a detector."""

    kind = "expert"
    needs_images = False
    name = "oracle"

    def predict(self, items: Sequence[Item]) -> list[Response]:
        return [Response(score=1.0 if item.sample.label == "fake" else 0.0) for item in items]


def _records(scores: Sequence[float], labels: Sequence[str]) -> list[Record]:
    return [
        Record(id=str(i), label=lab, category=None, score=s)  # type: ignore[arg-type]
        for i, (s, lab) in enumerate(zip(scores, labels, strict=True))
    ]


def test_the_flags_are_pure_functions_of_the_answers() -> None:
    labels = ["fake", "real", "fake", "real"]
    assert labels_copied(_records([1.0, 0.0, 1.0, 0.0], labels))
    assert not labels_copied(_records([1.0, 0.0, 1.0, 0.1], labels))
    assert binary_perfect(_records([1.0, 0.0, 1.0, 0.0], labels))
    assert not binary_perfect(_records([0.9, 0.1, 1.0, 0.0], labels))  # perfect, but not 0/1 only
    assert not binary_perfect(_records([1.0, 1.0, 1.0, 0.0], labels))  # 0/1 only, but a real at 1
    claimed = {"metrics": {"acc": 0.99, "auc": 0.80}, "ci": {"acc": [0.97, 1.0], "auc": [0.7, 0.9]}}
    reproduced = [{"metrics": {"acc": 0.90, "auc": 0.85}}, {"metrics": {"acc": 0.95}}]
    said = above_reproduced(claimed, reproduced)  # type: ignore[arg-type]
    assert len(said) == 1 and said[0].startswith("acc 0.990")  # 0.04 above the best, CI half-width 0.015
    assert above_reproduced(claimed, []) == []  # type: ignore[arg-type]


def test_an_oracle_submission_is_stored_flagged_and_ranked_apart(tmp_path: Path) -> None:
    task = register_task(TASK, write_fakeclue_data(tmp_path / "data"))
    results_dir = tmp_path / "results"
    (honest,) = run_models(task, tmp_path / "runs", [Scorer()])
    shutil.copytree(honest.parent, results_dir / "reproduced" / honest.parent.name)  # a reproduced run
    (oracle,) = run_models(task, tmp_path / "to-submit", [Oracle()])
    folder, _ = submit(files_from_folder(oracle), results_dir)
    stored = read_results(folder / "results.json")
    provenance = stored["provenance"]
    assert provenance["tier"] == "recomputed"
    flags = [f["flag"] for f in provenance["flags"]]
    assert flags == ["labels_copied", "above_reproduced", "above_reproduced", "above_reproduced"]
    assert [f["detail"].split()[0] for f in provenance["flags"][1:]] == ["acc", "auc", "balanced_acc"]

    board = load_board(results_dir, None)
    frame = results_frame(board.for_task(TASK))
    numbers, _ = board_table(frame, ["acc", "auc"], "acc")
    assert list(numbers["Model"]) == ["scorer", "oracle"]  # the perfect row comes after the honest one
    assert numbers["Rank"].iloc[0] == 1 and numbers["Rank"].isna().iloc[1]  # and has no rank
    assert numbers["Source"].iloc[1] == "submitted ⚑"
    assert numbers["vs best"].iloc[1] == ""
