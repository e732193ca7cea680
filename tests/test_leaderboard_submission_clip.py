"""A submission scored with ``css_clip77`` is recomputed with the board's CLIP folder, and refused in one line
(never a traceback, never the engine's option for a run) by a board that has none."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from fixtures.leaderboard.board import Explainer, register_task, write_fakeclue_data
from test_metrics_explanation_variants import build_tiny_clip

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import choose_metrics
from spotfake.leaderboard.cli import streamlit_command
from spotfake.leaderboard.config import parse_args
from spotfake.leaderboard.received import files_from_folder
from spotfake.leaderboard.submission import submit

pytestmark = pytest.mark.xdist_group("leaderboard_submission")
TASK = "lbtoy-submission-clip"
REFUSAL = (
    "results.json: not recomputed: metric css_clip77 needs CLIP weights, which this server does not have; "
    "re-score the run without it (spotfake score ... --metrics -css_clip77) and submit that"
)


@pytest.fixture(scope="module")
def clip_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A CLIP folder, and a genuine run scored with ``--metrics +css_clip77`` through it."""
    root = tmp_path_factory.mktemp("clip-submission")
    clip = build_tiny_clip(root / "tiny-clip", full_model=True)
    task = choose_metrics(register_task(TASK, write_fakeclue_data(root / "data")), "+css_clip77")
    scoring = ScoringOptions(css_clip_model=str(clip))
    options = RunOptions(output_dir=root / "runs", batch_size=8, workers=1, progress=False, scoring=scoring)
    folder = run(Explainer(name="clip-model"), {}, task, options).folder
    assert json.loads((folder / "results.json").read_text())["metrics"]["css_clip77"] is not None
    return clip, folder


def test_without_a_clip_folder_the_board_refuses_in_one_line(
    clip_run: tuple[Path, Path], tmp_path: Path
) -> None:
    _, folder = clip_run
    with pytest.raises(SpotfakeError) as info:
        submit(files_from_folder(folder), tmp_path / "results")
    assert str(info.value) == REFUSAL
    assert not (tmp_path / "results").exists()


def test_with_the_boards_clip_folder_it_is_recomputed_and_stored(
    clip_run: tuple[Path, Path], tmp_path: Path
) -> None:
    clip, folder = clip_run
    stored, checked = submit(files_from_folder(folder), tmp_path / "results", css_clip_model=clip)
    claimed = json.loads((folder / "results.json").read_text())
    assert checked.results["provenance"]["tier"] == "recomputed"
    assert checked.results["metrics"]["css_clip77"] == pytest.approx(
        claimed["metrics"]["css_clip77"], abs=1e-6
    )
    assert checked.results["scoring"]["css_clip77_embedder"] == claimed["scoring"]["css_clip77_embedder"]
    assert (stored / "results.json").is_file()

    other = build_tiny_clip(tmp_path / "other-clip", full_model=False)  # another folder name: another id
    with pytest.raises(SpotfakeError, match=r"css_clip77 was computed with embedder 'tiny-clip"):
        submit(files_from_folder(folder), tmp_path / "elsewhere", css_clip_model=other)


def test_the_commands_name_the_option(
    clip_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip, folder = clip_run
    argv = ["submit", str(folder), "--results-dir", str(tmp_path / "results")]
    argv += ["--arena-db", str(tmp_path / "b.sqlite3")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"spotfake: error: submission refused: {REFUSAL}; or, on the board's side, set --css-clip-model DIR"
    ]
    assert main([*argv, "--css-clip-model", str(clip)]) == 0, capsys.readouterr().err

    args = argparse.Namespace(
        host="127.0.0.1", port=8501, results_dir="r", runs_dir="u", data_root=[], css_clip_model=str(clip)
    )
    app_argv = streamlit_command(args)
    app_argv = app_argv[app_argv.index("--") + 1 :]
    assert parse_args(app_argv).css_clip_model == clip.resolve()
