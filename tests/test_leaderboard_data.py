"""Loading result folders into frames: origins and sources told apart, metrics and intervals in columns."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fixtures.leaderboard.board import BoardPaths, build_board

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results import read_results
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.scan import read_cached
from spotfake.leaderboard.views import BEST, bar_chart, board_table, heatmap, md_escape

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


def test_board_table_ranks_best_first_with_value_and_interval_in_one_cell(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    frame = lb.results_frame(loaded.entries)
    numbers, text = board_table(
        frame, ["acc", "rouge_l"], "acc", merge_tiers=True
    )  # tiers: test_leaderboard_tiers
    ranked = numbers[numbers["Source"] != "reported"]
    assert ranked["Acc"].tolist() == sorted(ranked["Acc"].tolist(), reverse=True)
    assert ranked["Rank"].tolist() == list(range(1, len(ranked) + 1))
    last = numbers.iloc[-1]  # a paper's number on its own data: listed last, not ranked against runs
    assert last["Source"] == "reported" and pd.isna(last["Rank"]) and pd.isna(last["Gap"])
    assert last["vs best"] == ""
    assert numbers["Rank"].tolist()[0] == 1 and numbers["vs best"].iloc[0] == BEST
    assert list(numbers.columns[:3]) == [
        "Rank",
        "Model",
        "Acc",
    ]  # the ranking metric next to the model (phones)
    assert numbers["Gap"].iloc[0] == 0.0 and (numbers["Gap"].dropna() >= 0).all()
    by_model = frame.set_index("name")
    value, low, high = by_model.loc["explainer", ["acc", "acc_lo", "acc_hi"]]
    row = numbers.index[numbers["Model"] == "explainer"][0]
    assert text.at[row, "Acc"] == f"{value:.3f} ±{(high - low) / 2:.3f}"
    assert numbers.at[row, "Acc"] == value  # the number underneath, so the column sorts by value
    reported = numbers.index[numbers["Model"] == "FakeVLM"][0]
    assert text.at[reported, "Acc"] == f"{by_model.loc['FakeVLM', 'acc']:.3f}"  # no empty interval
    assert numbers.at[reported, "Paper"] == "https://arxiv.org/abs/2503.14905"
    from spotfake.leaderboard.views import model_url

    assert model_url("npr-demo") == model_url("NPR") == "https://arxiv.org/abs/2312.10461"  # its architecture
    assert model_url("univfd@threshold=0.3") == "https://arxiv.org/abs/2302.10174"
    assert model_url("linear-probe") is None and model_url("nprx") is None
    _, plain = board_table(frame, ["acc"], "acc", show_ci=False)
    assert "±" not in "".join(plain["Acc"])
    assert text.shape == numbers.shape


def test_lower_is_better_metrics_rank_ascending() -> None:
    frame = pd.DataFrame(
        {
            "key": ["a", "b", "c"], "name": ["a", "b", "c"], "source": ["reproduced"] * 3, "kind": ["expert"] * 3,
            "origins": ["local"] * 3, "n": [10, 10, 10], "citation": [""] * 3,
            "eer": [0.3, 0.1, float("nan")], "eer_lo": [float("nan")] * 3, "eer_hi": [float("nan")] * 3,
        }
    )  # fmt: skip
    numbers, _ = board_table(frame, ["eer"], "eer", tied={"a": 0.2})
    assert numbers["vs best"].tolist() == ["best", "tied (p = 0.200)", ""]
    numbers, _ = board_table(frame, ["eer"], "eer", tied={"a": 0.01})
    assert numbers["vs best"].iloc[1] == "worse (p = 0.010)"
    numbers, _ = board_table(frame, ["eer"], "eer", tied={"a": None})
    assert numbers["vs best"].iloc[1] == "worse (intervals apart)"
    numbers, _ = board_table(frame, ["eer"], "eer", tied={})
    assert numbers["Model"].tolist() == ["b", "a", "c"]
    assert numbers["Rank"].tolist()[:2] == [1, 2] and pd.isna(numbers["Rank"].iloc[2])
    assert numbers["vs best"].tolist() == ["best", "not tested", ""]  # a blank is never a silent "not tied"
    assert numbers["Gap"].iloc[1] == pytest.approx(0.2)


def test_charts_are_built_from_the_frames(board: BoardPaths) -> None:
    loaded = lb.load_board(board.results_dir, board.runs_dir)
    frame = lb.results_frame(loaded.entries)
    spec = bar_chart(frame, "acc").to_dict()
    bars, errors, chance = spec["layer"]
    assert chance["mark"]["type"] == "rule"  # the coin-flip line of accuracy
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


def test_a_folder_named_results_json_and_a_deep_file_are_listed_not_fatal(
    board: BoardPaths, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(board.runs_dir, runs)
    (runs / "trap" / TASK / "results.json").mkdir(parents=True)
    deep = runs / "deep" / TASK / "results.json"
    deep.parent.mkdir(parents=True)
    deep.write_text('{"a": ' + "[" * 985 + "]" * 985 + "}")
    (runs / "binary" / TASK).mkdir(parents=True)
    (runs / "binary" / TASK / "results.json").write_bytes(b"\x00\xff\xfe" * 10)
    loaded = lb.load_board(None, runs)
    assert sorted(e.model for e in loaded.entries) == ["always-fake", "explainer", "random", "scorer"]
    assert len(loaded.problems) == 3
    assert any("trap" in p and "a folder named results.json" in p for p in loaded.problems)
    assert any("deep" in p and "nested deeper" in p for p in loaded.problems)
    assert any("binary" in p for p in loaded.problems)
    assert all("\n" not in p for p in loaded.problems)


def test_tasks_with_runs_of_their_own_come_before_reported_only_tasks(board: BoardPaths) -> None:
    from dataclasses import replace

    loaded = lb.load_board(board.results_dir, None)
    reported = next(e for e in loaded.entries if e.source == "reported")
    only = replace(reported, results={**reported.results, "task": {**reported.results["task"], "name": "aa"}})
    measured = next(e for e in loaded.entries if e.source != "reported")
    later = replace(
        measured, results={**measured.results, "task": {**measured.results["task"], "name": "zz"}}
    )
    assert lb.Board(entries=[only, later, *loaded.entries]).tasks() == [TASK, "zz", "aa"]


def test_reading_is_cached_until_the_file_changes(board: BoardPaths, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(board.runs_dir / "explainer" / TASK, folder)
    path = folder / "results.json"
    first = read_cached(path)
    assert read_cached(path) is first  # unchanged: not read again
    data = json.loads(path.read_text())
    data["model"]["name"] = "renamed"
    path.write_text(json.dumps(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    again = read_cached(path)
    assert not isinstance(again, str) and again["model"]["name"] == "renamed"


def test_identical_runs_in_both_roots_are_one_row_listing_both(board: BoardPaths, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(board.runs_dir / "explainer", results / "reproduced" / "explainer")
    other = tmp_path / "other"
    shutil.copytree(board.runs_dir / "scorer", other / "scorer")
    lines = (other / "scorer" / TASK / "samples.jsonl").read_text().splitlines()
    (other / "scorer" / TASK / "samples.jsonl").write_text("\n".join(reversed(lines)) + "\n")
    shutil.copytree(other / "scorer", results / "reproduced" / "scorer")  # same key, other bytes
    loaded = lb.load_board(results, board.runs_dir)
    explainers = [e for e in loaded.entries if e.model == "explainer"]
    assert len(explainers) == 1
    assert explainers[0].origins == ("committed", "local") and explainers[0].origin == "committed"
    assert len([e for e in loaded.entries if e.model == "scorer"]) == 2  # records differ: both kept
    from spotfake.leaderboard.tabs.context import Filters

    assert Filters(TASK, origins=("local",)).keeps(explainers[0])  # shown under either place
    assert Filters(TASK, origins=("committed",)).keeps(explainers[0])


def test_records_of_merged_runs_are_read_again_only_when_they_change(
    board: BoardPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spotfake.harness import jsonio
    from spotfake.leaderboard import scan

    results = tmp_path / "results"
    shutil.copytree(board.runs_dir / "explainer", results / "reproduced" / "explainer")
    reads: list[Path] = []
    original = jsonio.iter_json_lines

    def counting(path: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        reads.append(Path(path))
        return original(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jsonio, "iter_json_lines", counting)
    monkeypatch.setattr(scan, "_records_cache", {})  # earlier tests read the local copy already
    assert len([e for e in lb.load_board(results, board.runs_dir).entries if e.model == "explainer"]) == 1
    assert len(reads) == 2  # both copies read once to tell they are the same run
    assert len([e for e in lb.load_board(results, board.runs_dir).entries if e.model == "explainer"]) == 1
    assert len(reads) == 2  # a second page load reads no records file again
    copy = results / "reproduced" / "explainer" / TASK / "samples.jsonl"
    lines = copy.read_text().splitlines()
    copy.write_text("\n".join(reversed(lines)) + "\n")
    loaded = lb.load_board(results, board.runs_dir)
    assert len(reads) == 3 and copy in reads  # the changed copy is read again, the other is not
    assert len([e for e in loaded.entries if e.model == "explainer"]) == 2
    assert scan._records(copy) is scan._records(copy)


def test_tie_marks_come_from_mcnemar_against_the_best_run_with_records(board: BoardPaths) -> None:
    from spotfake.leaderboard.stats import mcnemar
    from spotfake.leaderboard.ties import pair_p_value, tie_p_values

    loaded = lb.load_board(board.results_dir, board.runs_dir)
    frame = lb.results_frame(loaded.entries)
    p = tie_p_values(frame, loaded.entries, "acc", pair_p_value(lambda e: lb.load_samples(e.folder)))
    runs = frame[frame["has_samples"]].sort_values("acc", ascending=False)
    best = runs["key"].iloc[0]
    assert best not in p and not set(p) & set(frame.loc[~frame["has_samples"], "key"])  # no reported row
    assert p, "some run overlaps the best's interval on 24 samples"
    by_key = {e.key: e for e in loaded.entries}
    apart = frame.set_index("key")
    for key, value in p.items():
        if value is None:  # not tested: the intervals do not overlap, so it is worse without a test
            assert apart.at[key, "acc_hi"] < apart.at[best, "acc_lo"]
            continue
        pair = lb.paired_values(
            lb.load_samples(by_key[key].folder), lb.load_samples(by_key[best].folder), "acc"
        )
        assert value == mcnemar(pair["a"].astype(bool), pair["b"].astype(bool)).p_value
    assert set(runs["key"].iloc[1:]) == set(p)  # every run with records is tested or known apart


def test_a_rerun_that_differs_only_in_timings_is_the_same_row(board: BoardPaths, tmp_path: Path) -> None:
    import json

    results = tmp_path / "results"
    shutil.copytree(board.runs_dir / "explainer", results / "reproduced" / "explainer")
    samples = results / "reproduced" / "explainer" / TASK / "samples.jsonl"
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    for row in rows:
        row["latency_s"] = 123.0  # a fresh run of the same model never has the same timings
        if isinstance(row.get("score"), float):
            row["score"] += 1e-7  # nor, on another machine, the same last digits of its scores
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    loaded = lb.load_board(results, board.runs_dir)
    assert len([e for e in loaded.entries if e.model == "explainer"]) == 1
    rows[0]["response"] = "something else entirely"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    loaded = lb.load_board(results, board.runs_dir)
    assert len([e for e in loaded.entries if e.model == "explainer"]) == 2


def test_generator_bars_show_zero_and_carry_wilson_intervals() -> None:
    from scipy.stats import binomtest

    from spotfake.harness.report.curves import GeneratorBar
    from spotfake.leaderboard.detector_charts import generator_chart

    bars = {"npr": [GeneratorBar("dcgan", 1.0, 80, "seen"), GeneratorBar("ddpm", 0.0, 80, "held-out")]}
    spec = generator_chart(bars, "Acc", "generator", "acc").to_dict()
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]
    ]
    assert marks == ["bar", "tick", "rule"]  # the tick draws the 0.00 bar as a line
    rows = next(iter(spec["datasets"].values()))
    ddpm = next(r for r in rows if r["group"] == "ddpm (held-out)")
    expected = binomtest(0, 80).proportion_ci(confidence_level=0.95, method="wilson")
    assert ddpm["low"] == pytest.approx(expected.low) and ddpm["high"] == pytest.approx(expected.high)
    f1 = generator_chart(bars, "F1", "generator", "f1").to_dict()
    assert len(f1["layer"]) == 2  # no interval for a metric that is not a share of samples


def test_the_robustness_legend_is_opaque_whatever_the_band_opacity() -> None:
    from spotfake.harness.report.curves import RobustnessPoint
    from spotfake.leaderboard.detector_charts import robustness_chart

    points = [
        RobustnessPoint(m, "jpeg", q, v, v - 0.05, v + 0.05)
        for m, v in (("a", 0.9), ("b", 0.6))
        for q in (95.0, 75.0)
    ] + [RobustnessPoint("a", "clean", None, 0.95, None, None)]
    spec = robustness_chart(points, "Acc", "JPEG quality", reverse=True).to_dict()
    band, line, clean = spec["layer"]
    assert band["mark"]["type"] == "area" and band["mark"]["opacity"] < 0.5
    # Vega-Lite merges the model legend from every layer, the band's opacity with it: the legend says 1
    legends = [layer["encoding"]["color"]["legend"] for layer in (band, line, clean)]
    assert all(legend["symbolOpacity"] == 1 for legend in legends)


def test_the_heat_map_names_held_out_groups() -> None:
    long = pd.DataFrame(
        {"key": ["a", "a"], "model": ["m", "m"], "label": ["m", "m"], "source": ["reproduced"] * 2,
         "origin": ["local"] * 2, "value": ["dcgan", "ddpm"], "metric": ["acc", "acc"], "score": [0.9, 0.1],
         "n": [10, 10]}
    )  # fmt: skip
    spec = heatmap(long, "acc", "generator", ["ddpm"]).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert sorted(r["value"] for r in rows) == ["dcgan", "ddpm (held-out)"]


def test_judge_values_of_different_rubrics_never_share_a_column(board: BoardPaths, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(board.runs_dir, runs)
    rubrics = {"explainer": ("spotfake", "ab" * 32, 0.5), "random": ("loki", "cd" * 32, 0.25)}
    for model, (rubric, digest, value) in rubrics.items():
        path = runs / model / TASK / "results.json"
        results = json.loads(path.read_text())
        results["metrics"]["judge"] = value
        results["ci"]["judge"] = [value - 0.1, value + 0.1]
        next(iter(results["per_category"].values()))["judge"] = value
        results["scoring"]["judge"] = {"rubric": rubric, "rubric_version": "1", "prompt_sha256": digest}
        path.write_text(json.dumps(results))
    entries = lb.load_board(board.results_dir, runs).entries
    keys = [k for k in lb.metric_keys(entries) if k.startswith("judge")]
    assert sorted(keys) == ["judge@loki-cdcdcdcd", "judge@spotfake-abababab"]  # never one "judge" column
    assert lb.metric_label("judge@loki-cdcdcdcd") == "Judge (loki-cdcdcdcd)"
    assert lb.higher_is_better("judge@loki-cdcdcdcd") and lb.rankable("judge@loki-cdcdcdcd")
    frame = lb.results_frame(entries).set_index("model")
    assert (
        frame.loc["random", "judge@loki-cdcdcdcd"] == 0.25
        and frame.loc["random", "judge@loki-cdcdcdcd_hi"] == 0.35
    )
    assert math.isnan(frame.loc["random", "judge@spotfake-abababab"])
    assert math.isnan(
        frame.loc["explainer", "judge@loki-cdcdcdcd_lo"]
    )  # no interval in another rubric's column
    long = lb.breakdown_frame(entries, "category")
    assert set(long[long["metric"].str.startswith("judge")]["metric"]) == set(keys)
