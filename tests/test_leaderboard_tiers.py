"""Reproduced runs and submissions are ranked apart unless the user merges them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from fixtures.leaderboard.board import build_board

from spotfake.leaderboard.data import load_board
from spotfake.leaderboard.overview import overview
from spotfake.leaderboard.views import BEST, board_table, ranking_tiers

NAN = float("nan")


def _frame() -> pd.DataFrame:
    sources = ["submitted", "reproduced", "submitted", "reproduced", "reported"]
    n = len(sources)
    return pd.DataFrame(
        {
            "key": list("abcde"), "name": ["sub-best", "rep-2", "sub-2", "rep-best", "paper"], "source": sources,
            "kind": ["expert"] * n, "origins": ["committed"] * n, "n": [10] * n, "citation": [""] * n,
            "acc": [0.95, 0.80, 0.70, 0.90, 0.99], "acc_lo": [NAN] * n, "acc_hi": [NAN] * n,
        }
    )  # fmt: skip


def test_each_tier_is_ranked_on_its_own_reproduced_first() -> None:
    frame = _frame()
    assert ranking_tiers(frame).tolist() == [1, 0, 1, 0, 0]
    numbers, _ = board_table(frame, ["acc"], "acc", tied={"b": 0.01, "c": 0.3})
    assert numbers["Model"].tolist() == ["rep-best", "rep-2", "sub-best", "sub-2", "paper"]
    assert numbers["Rank"].tolist()[:4] == [1, 2, 1, 2] and pd.isna(numbers["Rank"].iloc[4])
    # the best submission is the best of its tier, not marked against the reproduced runs
    assert numbers["vs best"].tolist() == [BEST, "worse (p = 0.010)", BEST, "tied (p = 0.300)", ""]
    assert numbers["Gap"].iloc[0] == numbers["Gap"].iloc[2] == 0.0
    assert abs(numbers["Gap"].iloc[3] - 0.25) < 1e-9 and abs(numbers["Gap"].iloc[1] - 0.10) < 1e-9


def test_merged_tiers_make_one_ranking() -> None:
    numbers, _ = board_table(_frame(), ["acc"], "acc", merge_tiers=True)
    assert numbers["Model"].tolist() == ["sub-best", "rep-best", "rep-2", "sub-2", "paper"]
    assert numbers["Rank"].tolist()[:4] == [1, 2, 3, 4]
    assert numbers["vs best"].iloc[0] == BEST and numbers["vs best"].iloc[2] == "not tested"
    assert abs(numbers["Gap"].iloc[1] - 0.05) < 1e-9


def test_the_overview_ranks_tiers_apart_too(tmp_path: Path) -> None:
    board = build_board(tmp_path, "lbtoy-tiers")
    entries = load_board(board.results_dir, board.runs_dir).entries
    apart = overview(entries, [board.task]).frame
    assert apart["Source"].tolist() == ["reproduced"] * 4 + ["submitted", "reported"]
    assert apart["Avg rank"].iloc[4] == 1.0  # the one submission, ranked among submissions
    merged = overview(entries, [board.task], merge_tiers=True).frame
    row = merged[merged["Source"] == "submitted"].iloc[0]
    assert row["Avg rank"] == 2.0  # behind scorer once ranked with the reproduced runs
    assert merged["Source"].iloc[-1] == "reported"
