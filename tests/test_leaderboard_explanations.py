"""The explanation views: explaining runs first, the verdict-only floor drawn, fluent-but-wrong answers found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spotfake.leaderboard import data as lb
from spotfake.leaderboard.scan import RunEntry
from spotfake.leaderboard.tabs.viewer import SHOW, default_models, fluent_but_wrong, kept_ids
from spotfake.leaderboard.views import bar_chart


def _entry(name: str, kind: str, rouge: float | None, floor: float | None = None) -> RunEntry:
    results = {
        "source": "reproduced",
        "model": {"name": name, "kind": kind},
        "task": {"name": "demo"},
        "metrics": {"rouge_l": rouge, "acc": 0.5},
    }
    if floor is not None:
        results["verdict_only_floor"] = {"rouge_l": floor}
    return RunEntry(Path("runs") / name / "demo", "local", results)  # type: ignore[arg-type]


def test_explaining_runs_are_preselected_and_never_mixed_with_fixed_sentences() -> None:
    runs = [
        _entry("npr-demo", "expert", None, floor=0.21),
        _entry("always-fake", "baseline", None, floor=0.24),
        _entry("fakevlm-demo", "lmm", 0.31),
        _entry("other-lmm", "lmm", 0.42),
    ]
    assert default_models(runs) == [runs[3].key, runs[2].key]  # both explain; no classifier fills in
    assert default_models(runs[:2]) == [runs[0].key, runs[1].key]  # only when none explains
    assert lb.verdict_only_floor(runs, "rouge_l") == 0.24
    assert lb.verdict_only_floor(runs, "css") is None


def test_the_floor_is_a_line_on_the_explanation_chart() -> None:
    frame = pd.DataFrame(
        {"key": ["a", "b"], "name": ["a", "b"], "source": ["reproduced"] * 2, "rouge_l": [0.3, 0.4],
         "rouge_l_lo": [0.25, 0.35], "rouge_l_hi": [0.35, 0.45]}
    )  # fmt: skip
    with_floor = bar_chart(frame, "rouge_l", 0.24).to_dict()
    without = bar_chart(frame, "rouge_l").to_dict()
    assert len(with_floor["layer"]) == len(without["layer"]) + 1
    assert "verdict-only floor" in with_floor["title"]


def test_fluent_but_wrong_answers_are_a_show_choice() -> None:
    frame = pd.DataFrame(
        {"correct": [False, False, True, None], "css": [0.82, 0.40, 0.90, 0.95]},
        index=["s1", "s2", "s3", "s4"],
    )
    assert [fluent_but_wrong(frame, i, {}) for i in frame.index] == [True, False, False, False]
    assert fluent_but_wrong(frame, "s2", {"s2": 5})  # a high judge grade is fluent too
    assert kept_ids({"run": frame}, list(frame.index), SHOW[3]) == ["s1"]


def test_an_experts_licence_comes_from_its_card() -> None:
    assert lb.model_licence("effort") and "NC" in lb.model_licence("effort").upper().replace("-", "")
    assert lb.model_licence("effort@path=x") == lb.model_licence("effort")
    assert lb.model_licence("no-such-model") == ""
