"""The Streamlit app driven headless by AppTest: table, filters, charts, explanations, comparison, uploads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fixtures.leaderboard.board import BoardPaths, build_board, copy_run, zip_run
from streamlit.testing.v1 import AppTest

from spotfake.harness.judge.grades import answer_sha256
from spotfake.leaderboard.app import TABS

pytestmark = pytest.mark.xdist_group("leaderboard_app")
TASK = "lbtoy-app"


def _script(results_dir: str, runs_dir: str, data_root: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(AppConfig(results_dir=Path(results_dir), runs_dir=Path(runs_dir), data_roots={"": Path(data_root)}))


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> BoardPaths:
    return build_board(tmp_path_factory.mktemp("app"), TASK)


@pytest.fixture
def private_board(board: BoardPaths, tmp_path: Path) -> BoardPaths:
    """A copy of the board's results folder, for tests that store submissions."""
    results = tmp_path / "results"
    shutil.copytree(board.results_dir, results)
    return BoardPaths(results, board.runs_dir, board.data_root, board.task, board.run_folders)


def _app(board: BoardPaths, tab: str | None = None) -> AppTest:
    """The app after its first run, on ``tab`` (a label of ``leaderboard.app.TABS``) when given."""
    at = AppTest.from_function(
        _script, args=(str(board.results_dir), str(board.runs_dir), str(board.data_root)), default_timeout=60
    )
    if tab is not None:
        at.session_state["tab"] = tab
    return at.run()


def _table(at: AppTest) -> Any:
    (frame,) = [d.value for d in at.dataframe if "Model" in d.value.columns]
    return frame


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_the_table_ranks_every_model_best_first(board: BoardPaths) -> None:
    at = _app(board)
    assert not at.exception
    table = _table(at)
    assert set(table["Model"]) == {"always-fake", "random", "explainer", "scorer", "FakeVLM", "explainer-v2"}
    assert {"Rank", "Model", "Source", "Acc", "ROUGE-L", "vs best", "Gap", "Where"} <= set(table.columns)
    assert "Unparsed" not in table.columns  # off by default
    explainer = table[table["Model"] == "explainer"].iloc[0]
    results = json.loads((board.runs_dir / "explainer" / TASK / "results.json").read_text())
    assert explainer["Acc"] == results["metrics"]["acc"]
    assert explainer["Where"] == "local run (runs/)"
    assert table[table["Model"] == "FakeVLM"].iloc[0]["Source"] == "reported"
    # reproduced runs first, then the submission ranked apart (from 1), then the paper's row
    assert table["Source"].tolist()[-2:] == ["submitted", "reported"]
    runs = table[table["Source"] == "reproduced"]
    assert runs["Acc"].tolist() == sorted(runs["Acc"].tolist(), reverse=True)
    assert table["Rank"].iloc[-2] == 1 and table["vs best"].iloc[-2] == "best"
    assert any("ranked apart from reproduced runs" in c.value for c in at.caption)
    assert table["Rank"].iloc[0] == 1 and table["vs best"].iloc[0] == "best"
    assert any("reported row" in i.value and "not on spotfake's samples" in i.value for i in at.info)
    (grid,) = [d for d in at.dataframe if "Rank" in d.value.columns]
    assert "rgba(255, 193, 7" not in grid.proto.arrow_data.styler.styles  # nothing new to highlight
    assert len(at.get("vega_lite_chart")) == 1  # the bar chart; other tabs are not computed
    at.toggle(key="merge_tiers").set_value(True).run()  # one ranking of every run
    merged = _table(at)
    runs = merged[merged["Source"] != "reported"]
    assert runs["Acc"].tolist() == sorted(runs["Acc"].tolist(), reverse=True)
    assert runs["Rank"].tolist() == sorted(runs["Rank"].tolist()) and runs["Rank"].iloc[-1] > 1
    assert not any("ranked apart" in c.value for c in at.caption)
    at.session_state["tab"] = "Per category"
    at.run()
    assert len(at.get("vega_lite_chart")) == 1 and not at.dataframe  # the heat map alone


def test_ranking_by_a_lower_is_better_metric_puts_the_smallest_first(board: BoardPaths) -> None:
    at = _app(board)
    at.selectbox(key="rank_by:" + TASK).set_value("unparsed_rate").run()
    at.multiselect(key="table_metrics:" + TASK).set_value(["acc", "unparsed_rate"]).run()
    table = _table(at).dropna(subset=["Unparsed"])
    assert table["Unparsed"].tolist() == sorted(table["Unparsed"].tolist())


def test_the_overview_has_every_task_and_a_cell_opens_its_task(private_board: BoardPaths) -> None:
    from test_parameter_count import TIED, TinyTorch

    from spotfake.harness.runner import RunOptions, run
    from spotfake.harness.task import load_task

    published = Path(__file__).resolve().parents[1] / "results" / "reported"
    shutil.copytree(published, private_board.results_dir / "published")
    measured = RunOptions(output_dir=private_board.results_dir / "reproduced", progress=False, workers=1)
    run(TinyTorch(), {}, load_task(TASK), measured)  # a model with torch modules: counted at run time
    at = _app(private_board, "Overview")
    assert not at.exception
    (table,) = [d.value for d in at.dataframe if "Avg rank" in d.value.columns]
    assert f"{TASK} · Acc" in table.columns and "fakeclue · Acc" in table.columns
    fakevlm = table[(table["Model"] == "FakeVLM") & (table["Source"] == "reported")].iloc[0]
    assert fakevlm["fakeclue · Acc"] == 0.986 and fakevlm["Tasks"] >= 3
    assert "2503.14905" in fakevlm["Paper"] and "Licence" in table.columns  # model metadata beside the ranks
    params = table.set_index(["Model", "Source"])["Params"]
    assert params[("tiny-torch", "reproduced")] == TIED + 4  # counted at run time
    assert params[("FakeVLM", "reported")] == 7_000_000_000  # the size its paper states
    assert pd.isna(params[("always-fake", "reproduced")]) and pd.isna(params[("GPT-4o", "reported")])
    reported = table["Source"] == "reported"
    assert not reported[: (~reported).sum()].any()  # spotfake's runs first, then the papers' numbers
    # reproduced runs, then submissions, then papers, each ranked among its own tier
    assert table["Source"].tolist() == sorted(
        table["Source"], key=["reproduced", "submitted", "reported"].index
    )
    for part in (table[table["Source"] == source] for source in ("reproduced", "submitted", "reported")):
        assert part["Score"].tolist() == sorted(part["Score"].tolist(), reverse=True)
        assert part["Avg rank"].min() == 1.0 and part["Updated"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    from spotfake.leaderboard.tabs.overview import FIRST_TAB, task_of_cells

    columns = {f"{TASK} · Acc": (TASK, "acc"), "fakeclue · Acc": ("fakeclue", "acc")}
    assert task_of_cells([(0, "fakeclue · Acc")], columns) == "fakeclue"  # what a click on a cell opens
    assert task_of_cells([(0, "Model")], columns) is None
    at.session_state["task"] = "fakeclue"  # what the click's callback sets
    at.session_state["tab"] = FIRST_TAB
    at.run()
    assert "FakeVLM" in set(_table(at)["Model"]) and not at.exception


def test_filters_narrow_the_table(board: BoardPaths) -> None:
    at = _app(board)
    at.sidebar.multiselect(key="kinds").set_value(["lmm"]).run()
    assert set(_table(at)["Model"]) == {"explainer", "FakeVLM", "explainer-v2"}
    at.sidebar.multiselect(key="sources").set_value(["reproduced"]).run()
    assert set(_table(at)["Model"]) == {"explainer"}
    at.sidebar.multiselect(key="kinds").set_value(["lmm", "expert", "baseline"]).run()
    at.sidebar.multiselect(key="sources").set_value(["reported", "submitted"]).run()
    assert set(_table(at)["Model"]) == {"FakeVLM", "explainer-v2"}
    at.sidebar.multiselect(key="sources").set_value(["reproduced", "reported", "submitted"]).run()
    at.sidebar.multiselect(key="origins").set_value(["local"]).run()
    assert set(_table(at)["Model"]) == {"always-fake", "random", "explainer", "scorer"}


def test_switching_task_keeps_the_filters_and_offers_every_kind(private_board: BoardPaths) -> None:
    published = Path(__file__).resolve().parents[1] / "results" / "reported"
    shutil.copytree(published, private_board.results_dir / "published")
    at = _app(private_board)
    at.sidebar.multiselect(key="kinds").set_value(["expert"]).run()
    assert set(_table(at)["Model"]) == {"scorer"}
    at.selectbox(key="task").set_value("dmimage").run()
    assert set(_table(at)["Kind"]) == {"expert classifier"}
    assert set(_table(at)["Source"]) == {"reported"}
    at.sidebar.multiselect(key="kinds").set_value(["lmm", "expert", "baseline"]).run()
    assert {"CNNSpot", "UnivFD", "FakeVLM", "SIDA"} <= set(_table(at)["Model"])


def test_choosing_a_category_shows_its_values(board: BoardPaths) -> None:
    at = _app(board)
    at.selectbox(key="category:" + TASK).set_value("category: animal").run()
    table = _table(at)
    results = json.loads((board.runs_dir / "explainer" / TASK / "results.json").read_text())
    row = table[table["Model"] == "explainer"].iloc[0]
    assert row["Acc"] == results["per_category"]["animal"]["acc"]
    assert row["n"] == results["per_category"]["animal"]["n"]
    source = next(iter(results["breakdowns"]["source"]))  # any breakdown the results carry is a choice too
    at.selectbox(key="category:" + TASK).set_value(f"source: {source}").run()
    row = _table(at).set_index("Model").loc["explainer"]
    assert row["Acc"] == results["breakdowns"]["source"][source]["acc"]
    assert row["n"] == results["breakdowns"]["source"][source]["n"]


def test_the_explanation_viewer_shows_image_reference_and_responses_side_by_side(board: BoardPaths) -> None:
    at = _app(board, "Explanations")
    at.multiselect(key="explain_models:" + TASK).set_value(
        [str(board.runs_dir / "explainer" / TASK), str(board.runs_dir / "always-fake" / TASK)]
    ).run()
    sample_id = at.selectbox(key="explain_sample:" + TASK).value
    records = {
        json.loads(line)["id"]: json.loads(line)
        for line in (board.runs_dir / "explainer" / TASK / "samples.jsonl").read_text().splitlines()
    }
    texts = _texts(at)
    assert records[sample_id]["response"] in texts
    assert "This is a fake image." in texts  # always-fake's answer beside it
    assert any(t.startswith("This is a ") and "picture" in t for t in texts)  # the reference
    assert any(f"ROUGE-L: {records[sample_id]['rouge_l']:.3f}" in t for t in texts)
    assert len(at.image) == 1
    at.radio(key="explain_show:" + TASK).set_value("where the models disagree").run()
    options = at.selectbox(key="explain_sample:" + TASK).options
    assert 0 < len(options) < 24


def test_the_viewer_defaults_to_models_that_explain_and_steps_through_samples(board: BoardPaths) -> None:
    at = _app(board, "Explanations")
    assert not at.exception
    chosen = at.multiselect(key="explain_models:" + TASK).value
    assert [Path(k).parent.name for k in chosen[:2]] == ["explainer-v2", "explainer"]  # best ROUGE-L first
    assert not {"always-fake", "random"} & {Path(k).parent.name for k in chosen}
    options = at.selectbox(key="explain_sample:" + TASK).options
    first = at.selectbox(key="explain_sample:" + TASK).value
    assert first == options[0]
    (image,) = at.image
    assert "32x32 px, shown at 8x" in image.proto.imgs[0].caption  # a whole-number nearest-neighbour zoom
    next_button = next(b for b in at.button if b.key == "explain_next:" + TASK)
    next_button.click().run()
    assert at.selectbox(key="explain_sample:" + TASK).value == options[1]
    assert any(t.startswith(f"sample 2 of {len(options)}") for t in _texts(at))
    previous = next(b for b in at.button if b.key == "explain_prev:" + TASK)
    previous.click().run()
    previous = next(b for b in at.button if b.key == "explain_prev:" + TASK)
    previous.click().run()
    assert at.selectbox(key="explain_sample:" + TASK).value == options[-1]  # wraps around
    records = [
        json.loads(line)
        for line in (board.results_dir / "submitted" / "explainer-v2" / TASK / "samples.jsonl")
        .read_text()
        .splitlines()
    ]
    record = next(r for r in records if r["id"] == options[-1])
    shown = ":green[" if record["correct"] else ":red["
    assert any(m.value.startswith(shown) for m in at.markdown)  # the verdict coloured right or wrong
    at.radio(key="explain_show:" + TASK).set_value("where any model is wrong").run()
    kept = at.selectbox(key="explain_sample:" + TASK).options
    assert 0 < len(kept) < len(options)


def test_the_viewer_filters_explanations_the_judge_graded_low(board: BoardPaths, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(board.runs_dir, runs)
    folder = runs / "explainer" / TASK
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    ids = [r["id"] for r in records]
    graded = {r["id"]: answer_sha256(r["response"]) for r in records}  # the answers the grades are of
    grades = [
        {"id": ids[3], "judge": 0.0, "score": 1, "status": "ok"},
        {"id": ids[5], "judge": 0.0, "score": 1, "status": "ok", "answer_sha256": answer_sha256("replaced")},
        {"id": ids[7], "judge": 0.25, "score": 2, "status": "ok"},
        {"id": ids[9], "judge": None, "score": None, "status": "judge_failure"},
        *({"id": i, "judge": 1.0, "score": 5, "status": "ok"} for i in ids[10:]),
    ]
    grades = [{"answer_sha256": graded[g["id"]], **g} for g in grades]  # ids[5]: a grade of an older answer
    (folder / "judge.jsonl").write_text("".join(json.dumps(g) + "\n" for g in grades))
    at = _app(BoardPaths(board.results_dir, runs, board.data_root, board.task, []), "Explanations")
    at.multiselect(key="explain_models:" + TASK).set_value([str(folder)]).run()
    assert at.radio(key="explain_show:" + TASK).options[-1].startswith("where an explanation is judged low")
    at.radio(key="explain_show:" + TASK).set_value("where an explanation is judged low (1-2 of 5)").run()
    assert at.selectbox(key="explain_sample:" + TASK).options == [ids[3], ids[7]]
    assert any(t.endswith("judge: 1/5") for t in _texts(at) if t.startswith("p(fake)"))


def test_the_comparison_says_it_in_one_sentence_for_every_metric(board: BoardPaths) -> None:
    at = _app(board, "Compare two models")
    kinds = {"always-fake": "baseline", "random": "baseline"}
    defaults = [at.selectbox(key="cmp_a:" + TASK).value, at.selectbox(key="cmp_b:" + TASK).value]
    assert not any(Path(str(k)).parent.name in kinds for k in defaults)  # the two best non-baselines
    at.selectbox(key="cmp_a:" + TASK).set_value(str(board.runs_dir / "explainer" / TASK))
    at.selectbox(key="cmp_b:" + TASK).set_value(str(board.runs_dir / "always-fake" / TASK)).run()
    (sentence,) = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("#### ")]
    assert sentence.startswith(
        "#### explainer's Acc is 0.625, 0.042 lower than always-fake's 0.667 on the 24"
    )
    assert "(95% CI -0.333 to +0.208, McNemar (exact) p = 1.000): no significant difference" in sentence
    (table,) = [d.value for d in at.dataframe if "test" in d.value.columns]
    tests = dict(zip(table["Metric"], table["test"], strict=True))
    assert tests["Acc"] == "McNemar (exact)" and tests["F1 macro"] == "paired bootstrap"
    assert {"F1 (real +)", "F1 (fake +)", "Balanced acc"} <= set(tests)  # every metric, not only per-sample
    assert "ROUGE-L" not in tests and "AUC" not in tests  # always-fake has neither: nothing to compare
    assert all(p.startswith(("< ", "0.", "1.")) for p in table["p"])
    at.selectbox(key="cmp_b:" + TASK).set_value(str(board.results_dir / "submitted" / "explainer-v2" / TASK))
    at.selectbox(key="cmp_metric:" + TASK).set_value("rouge_l").run()
    (sentence,) = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("#### ")]
    assert "explainer's ROUGE-L is" in sentence and "paired bootstrap p" in sentence
    (button,) = [b for b in at.button if b.key == "cmp_discordant:" + TASK]
    button.click().run()
    assert at.session_state["tab"] == "Explanations"
    assert at.radio(key="explain_show:" + TASK).value == "where the models disagree"
    assert at.multiselect(key="explain_models:" + TASK).value == [
        str(board.runs_dir / "explainer" / TASK),
        str(board.results_dir / "submitted" / "explainer-v2" / TASK),
    ]


def test_an_honest_upload_is_accepted_and_appears_in_the_table(
    private_board: BoardPaths, tmp_path: Path
) -> None:
    run = copy_run(private_board.runs_dir / "scorer" / TASK, tmp_path / "upload" / "scorer" / TASK)
    at = _app(private_board, "Submit")
    at.file_uploader(key="submission_files").set_value(
        ("scorer.zip", zip_run(run, f"{run.parent.name}/{run.name}"), "application/zip")
    )
    tasks_line = next(m.value for m in at.markdown if m.value.startswith("**Tasks this server can check:**"))
    assert TASK.replace("-", "\\-") in tasks_line and "5 MiB" in tasks_line  # what it can check, real limits
    assert at.selectbox(key="task").options == [f"{TASK} (6 results)"]
    at.form_submit_button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    stored = private_board.results_dir / "submitted" / "scorer" / TASK / "results.json"
    assert json.loads(stored.read_text())["source"] == "submitted"
    # the page reloads on the first screen: count refreshed, the new row highlighted, the notice shown
    assert at.session_state["tab"] == "Leaderboard"
    assert any("Accepted" in s.value for s in at.success)
    assert at.session_state["highlight"] == [str(stored.parent)]
    assert at.selectbox(key="task").options == [f"{TASK} (7 results)"]
    table = _table(at)
    # told apart from the reproduced run of the same name, and its owner token shown once
    assert ((table["Model"] == "scorer · submitted") & (table["Source"] == "submitted")).any()
    assert ((table["Model"] == "scorer") & (table["Source"] == "reproduced")).any()
    assert [c.value for c in at.code if c.value.startswith("sfo_")]
    (grid,) = [d for d in at.dataframe if "Rank" in d.value.columns]
    from spotfake.leaderboard.styling import NEW_ROW

    assert NEW_ROW.split(": ")[1] in grid.proto.arrow_data.styler.styles  # the new row is coloured


def test_an_upload_of_a_task_this_server_cannot_check_is_refused_for_the_uploader(
    private_board: BoardPaths, tmp_path: Path
) -> None:
    run = copy_run(private_board.runs_dir / "scorer" / TASK, tmp_path / "upload" / "scorer" / "loki")
    results = json.loads((run / "results.json").read_text())
    results["task"]["name"] = "loki"  # the board's data root holds FakeClue-format data, not LOKI
    (run / "results.json").write_text(json.dumps(results))
    at = _app(private_board, "Submit")
    at.file_uploader(key="submission_files").set_value(
        ("run.zip", zip_run(run, f"{run.parent.name}/{run.name}"), "application/zip")
    )
    at.form_submit_button[0].click().run()
    (error,) = at.error
    text = error.value.replace("\\", "")
    assert "this server cannot check task 'loki': its data is not installed here" in text
    assert "--data-root" not in text and TASK in text


def test_a_forged_upload_is_refused_with_the_reason(private_board: BoardPaths, tmp_path: Path) -> None:
    run = copy_run(private_board.runs_dir / "random" / TASK, tmp_path / "upload" / "random" / TASK)
    results = json.loads((run / "results.json").read_text())
    results["metrics"]["acc"] = 0.97
    (run / "results.json").write_text(json.dumps(results))
    at = _app(private_board, "Submit")
    at.file_uploader(key="submission_files").set_value(
        [
            ("results.json", (run / "results.json").read_bytes(), "application/json"),
            ("samples.jsonl", (run / "samples.jsonl").read_bytes(), "application/jsonl"),
        ]
    )
    at.form_submit_button[0].click().run()
    (error,) = at.error
    assert "Refused" in error.value and "acc" in error.value and "0\\.97" in error.value
    assert not (private_board.results_dir / "submitted" / "random").exists()


def test_untrusted_names_are_never_rendered_as_html_or_markdown(board: BoardPaths, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(board.runs_dir / "explainer", runs / "explainer")
    results_path = runs / "explainer" / TASK / "results.json"
    results = json.loads(results_path.read_text())
    results["model"]["name"] = "<img src=x onerror=alert(1)> [link](http://example.invalid)"
    results_path.write_text(json.dumps(results))
    at = AppTest.from_function(
        _script, args=(str(tmp_path / "none"), str(runs), str(board.data_root)), default_timeout=60
    )
    at.run()
    assert not at.exception
    assert results["model"]["name"] in set(_table(at)["Model"])  # shown literally in the table
    markdown = pytest.importorskip("markdown_it").MarkdownIt("commonmark")
    shown = []
    for label, _ in TABS:  # every tab, since only the tab on screen is rendered
        at.session_state["tab"] = label
        at.run()
        assert not at.exception, label
        shown += [*at.markdown, *at.caption, *at.success, *at.error, *at.info, *at.subheader]
        assert not at.get("html"), label
    assert any("example" in element.value for element in shown)
    for element in shown:
        html = markdown.render(element.value)
        assert "<img" not in html and "<a " not in html, element.value
        assert not getattr(element.proto, "allow_html", False)


def test_an_empty_board_says_how_to_get_results(tmp_path: Path) -> None:
    at = AppTest.from_function(
        _script, args=(str(tmp_path / "r"), str(tmp_path / "runs"), str(tmp_path)), default_timeout=60
    ).run()
    assert not at.exception
    assert any("make demo" in i.value for i in at.info)


def _two_images(small: str, large: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.tabs.viewer import show_images

    show_images([Path(small), Path(large), Path(small + ".missing")], "s1", "zoom")


def test_several_images_share_one_zoom_that_never_grows_past_2048_px(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 10, 10)).save(tmp_path / "small.png")
    Image.new("RGB", (600, 400), (10, 200, 10)).save(tmp_path / "large.png")
    at = AppTest.from_function(
        _two_images, args=(str(tmp_path / "small.png"), str(tmp_path / "large.png")), default_timeout=60
    ).run()
    assert not at.exception
    (slider,) = at.select_slider
    assert slider.options == ["1", "2", "3"]  # 600 px x 4 would be 2,400 px
    assert [i.proto.imgs[0].caption for i in at.image] == ["32x32 px, shown at 1x", "600x400 px, shown at 1x"]
    assert any("image not found" in c.value for c in at.caption)  # the missing one is one line
    slider.set_value(3).run()
    assert [i.proto.imgs[0].caption for i in at.image][1] == "600x400 px, shown at 3x"


def _committed(results_dir: str, runs_dir: str, arena_db: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(AppConfig(results_dir=Path(results_dir), runs_dir=Path(runs_dir), arena_db=arena_db))


def test_every_tab_renders_the_committed_board(tmp_path: Path) -> None:
    """The repository's own results (demo runs, their perturbed sweeps, reported rows) on every tab."""
    results = Path(__file__).resolve().parents[1] / "results"
    at = AppTest.from_function(
        _committed,
        args=(str(results), str(tmp_path / "runs"), str(tmp_path / "arena.sqlite3")),
        default_timeout=120,
    ).run()
    assert not at.exception
    at.selectbox(key="task").set_value("demo").run()
    table = _table(at)
    assert table["Model"].is_unique and "linear-probe" in set(table["Model"])  # perturbed runs left aside
    for label, _ in TABS:
        at.session_state["tab"] = label
        at.run()
        assert not at.exception, (label, [e.value for e in at.exception])
