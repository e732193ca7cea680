"""Loading result folders into frames: origins and sources told apart, metrics and intervals in columns."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fixtures.leaderboard.board import BoardPaths, build_board

from harness.errors import SpotfakeError
from harness.results import read_results
from leaderboard import data as lb
from leaderboard.views import bar_chart, display_table, heatmap, md_escape

pytestmark = pytest.mark.xdist_group("leaderboard_data")
TASK = "lbtoy-data"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> BoardPaths:
    return build_board(tmp_path_factory.mktemp("board"), TASK)


def test_every_result_is_found_with_its_origin_and_source(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    assert loaded.problems == []
    rows = {(e.model, e.source, e.origin) for e in loaded.entries}
    assert rows == {
        ("always-fake", "reproduced", "local"),
        ("random", "reproduced", "local"),
        ("explainer", "reproduced", "local"),
        ("scorer", "reproduced", "local"),
        ("FakeVLM", "reported", "committed"),
        ("explainer-v2", "submitted", "committed"),
    }
    assert loaded.tasks() == [TASK]
    reported = next(e for e in loaded.entries if e.source == "reported")
    assert not reported.has_samples


def test_results_frame_carries_the_files_numbers(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    frame = lb.results_frame(loaded.entries).set_index("model")
    for folder in board.run_folders:
        results = read_results(folder / "results.json")
        row = frame.loc[results["model"]["name"]]
        for metric, value in results["metrics"].items():
            if lb.is_count(metric):
                continue
            if value is None:
                assert math.isnan(row[metric])
            else:
                assert row[metric] == value
        for metric, (low, high) in results["ci"].items():
            assert (row[f"{metric}_lo"], row[f"{metric}_hi"]) == (low, high)
        assert row["n"] == results["metrics"]["n"]
    reported = frame.loc["FakeVLM"]
    assert reported["citation"] == "FakeVLM arXiv 2503.14905" and reported["table"] == "2"
    assert math.isnan(reported["acc_lo"])


def test_metric_order_puts_the_usual_ones_first(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    keys = lb.metric_keys(loaded.entries)
    assert keys[:3] == ["acc", "f1", "f1_fake"]
    assert keys[-1] == "unparsed_rate"
    assert "n" not in keys and "n_missing" not in keys


def test_breakdowns_become_a_long_frame(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    assert lb.breakdown_fields(loaded.entries) == ["category", "source"]
    long = lb.breakdown_frame(loaded.entries, "category")
    explainer = next(e for e in loaded.entries if e.model == "explainer")
    acc = long[(long["key"] == explainer.key) & (long["metric"] == "acc")].set_index("value")["score"]
    assert acc.to_dict() == {c: v["acc"] for c, v in explainer.results["per_category"].items()}
    by_source = lb.breakdown_frame(loaded.entries, "source")
    assert set(by_source["value"]) == {"genimage", "chameleon"}


def test_a_broken_results_file_is_a_problem_not_a_crash(board: BoardPaths, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(board.runs_dir, runs)
    (runs / "random" / TASK / "results.json").write_text("{not json")
    bad_schema = json.loads((runs / "scorer" / TASK / "results.json").read_text())
    del bad_schema["metrics"]
    (runs / "scorer" / TASK / "results.json").write_text(json.dumps(bad_schema))
    hidden = runs / "explainer" / ".incoming-x"
    shutil.copytree(runs / "explainer" / TASK, hidden)
    loaded = lb.load_board(None, runs)
    assert sorted(e.model for e in loaded.entries) == ["always-fake", "explainer"]
    assert len(loaded.problems) == 2
    assert any("malformed JSON" in p and "random" in p for p in loaded.problems)
    assert any("metrics" in p for p in loaded.problems)


def test_a_folder_under_both_roots_counts_once_as_committed(board: BoardPaths) -> None:
    loaded = lb.load_board(board.runs_dir, board.runs_dir)
    assert {e.origin for e in loaded.entries} == {"committed"}
    assert len(loaded.entries) == 4


def test_samples_and_paired_values(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    by_model = {e.model: e for e in loaded.entries}
    a = lb.load_samples(by_model["explainer"].folder)
    b = lb.load_samples(by_model["always-fake"].folder)
    assert len(a) == len(b) == 24
    pair = lb.paired_values(a, b, "acc")
    assert pair["a"].mean() == pytest.approx(by_model["explainer"].results["metrics"]["acc"])
    assert pair["b"].mean() == pytest.approx(by_model["always-fake"].results["metrics"]["acc"])
    rouge = lb.paired_values(a, b, "rouge_l")
    assert rouge["a"].mean() == pytest.approx(by_model["explainer"].results["metrics"]["rouge_l"])
    with pytest.raises(SpotfakeError, match="no per-sample value"):
        lb.paired_values(a, b, "f1")


def test_display_table_sorts_best_first_and_formats_intervals(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    frame = lb.results_frame(loaded.entries)
    table = display_table(frame, ["acc", "rouge_l"])
    accs = table["Acc"].tolist()
    assert accs == sorted(accs, reverse=True)
    assert list(table.columns[:5]) == ["Model", "Kind", "Source", "From", "n"]
    explainer = table[table["Model"] == "explainer"].iloc[0]
    low, high = frame.set_index("model").loc["explainer", ["acc_lo", "acc_hi"]]
    assert explainer["Acc 95% CI"] == f"[{low:.3f}, {high:.3f}]"
    assert table[table["Model"] == "FakeVLM"].iloc[0]["Acc 95% CI"] == ""
    assert set(table["From"]) == {"committed (results/)", "local run (runs/)"}
    assert "Reference" in table.columns
    assert "Acc 95% CI" not in display_table(frame, ["acc"], show_ci=False).columns


def test_charts_are_built_from_the_frames(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    frame = lb.results_frame(loaded.entries)
    spec = bar_chart(frame, "acc").to_dict()
    bars, errors = spec["layer"]
    values = spec["datasets"][bars["data"]["name"]]
    assert len(values) == len(frame)
    assert errors["mark"]["type"] == "errorbar"
    error_rows = spec["datasets"][errors["data"]["name"]]
    assert len(error_rows) == len(frame) - 1  # the reported row has no interval
    heat = heatmap(lb.breakdown_frame(loaded.entries), "acc", "category").to_dict()
    (cells,) = heat["datasets"].values()  # one data set shared by the cells and their labels
    assert {c["value"] for c in cells} == {"animal", "object", "scene"}
    assert isinstance(frame, pd.DataFrame)


def test_markdown_escaping_leaves_no_active_syntax() -> None:
    text = "[click](http://x) ![img](http://y) <b>bold</b> **x** :red[y] $z$"
    escaped = md_escape(text)
    for token in ("[", "]", "(", ")", "<", ">", "*", "!", ":", "$"):
        assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch == token)
    assert md_escape("a\nb") == "a b"
