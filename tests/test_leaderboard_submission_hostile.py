"""Hostile submissions: deep nesting, non-finite numbers, unknown model kinds and concurrent submits are
refused with one line, and nothing (no folder, no staging) is left behind."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fixtures.leaderboard.board import Explainer, copy_run, register_task, run_models, write_fakeclue_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results import read_results
from spotfake.leaderboard.received import SubmissionFiles, files_from_folder
from spotfake.leaderboard.submission import check_submission, submission_folder, submit
from spotfake.leaderboard.submission.store import store, submission_lock

pytestmark = pytest.mark.xdist_group("leaderboard_submission")
TASK = "lbtoy-hostile"


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    task = register_task(TASK, write_fakeclue_data(root / "data", n=12))
    (folder,) = run_models(task, root / "runs", [Explainer(name="hostile-model")])
    return folder


@pytest.fixture
def forged(honest: Path, tmp_path: Path) -> Path:
    return copy_run(honest, tmp_path / "forged")


def _results(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "results.json").read_text()))


def _refused(folder: Path, results_dir: Path) -> str:
    with pytest.raises(SpotfakeError) as info:
        submit(files_from_folder(folder), results_dir)
    message = str(info.value)
    assert "\n" not in message
    leftovers = [p for p in results_dir.rglob("*") if ".locks" not in p.parts] if results_dir.exists() else []
    assert leftovers == [], f"a refused submission left {leftovers}"
    return message


def test_deep_nesting_in_results_is_refused_and_the_board_stays_up(forged: Path, tmp_path: Path) -> None:
    text = (forged / "results.json").read_text()
    deep = "[" * 985 + "]" * 985
    (forged / "results.json").write_text(text.replace('"settings": {', f'"settings": {{"deep": {deep}, ', 1))
    assert "nested deeper than" in _refused(forged, tmp_path / "results")


@pytest.mark.parametrize("where", ["timing", "latency"])
def test_a_non_finite_number_is_refused_before_anything_is_created(
    forged: Path, tmp_path: Path, where: str
) -> None:
    if where == "timing":
        text = (forged / "results.json").read_text()
        (forged / "results.json").write_text(text.replace('"timing": {', '"timing": {"wall_s": 1e400, ', 1))
    else:
        lines = (forged / "samples.jsonl").read_text().splitlines()
        record = json.loads(lines[0])
        lines[0] = json.dumps(record)[:-1] + ', "latency_s": 1e400}'
        (forged / "samples.jsonl").write_text("\n".join(lines) + "\n")
    message = _refused(forged, tmp_path / "results")
    assert "1e400" in message or "finite" in message
    assert not (tmp_path / "results" / "submitted" / "hostile-model").exists()


def test_an_unknown_model_kind_is_refused(forged: Path, tmp_path: Path) -> None:
    results = _results(forged)
    results["model"]["kind"] = "oracle"
    (forged / "results.json").write_text(json.dumps(results))
    message = _refused(forged, tmp_path / "results")
    assert "model.kind 'oracle' is not one of lmm, expert, baseline" in message


def test_a_store_that_fails_leaves_no_empty_model_folder(honest: Path, tmp_path: Path) -> None:
    checked = check_submission(files_from_folder(honest))
    results = dict(checked.results)
    results["timing"] = {"wall_s": float("inf")}  # cannot be written as JSON
    with pytest.raises(ValueError):
        store(results, checked.records, checked.files, tmp_path / "results")  # type: ignore[arg-type]
    assert not (tmp_path / "results" / "submitted" / "hostile-model").exists()


def test_a_held_lock_refuses_a_second_store_naming_the_holder(honest: Path, tmp_path: Path) -> None:
    checked = check_submission(files_from_folder(honest))
    results_dir = tmp_path / "results"
    with submission_lock(results_dir, "hostile-model", TASK), pytest.raises(SpotfakeError) as info:
        store(checked.results, checked.records, checked.files, results_dir, lock_wait_s=0.3)
    assert "being stored by another process (pid" in str(info.value)
    assert not submission_folder(results_dir, "hostile-model", TASK).exists()
    store(checked.results, checked.records, checked.files, results_dir, lock_wait_s=0.3)  # released


def test_two_concurrent_submits_store_once_and_refuse_the_other(honest: Path, tmp_path: Path) -> None:
    results_dir = tmp_path / "results"
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def one() -> None:
        files = files_from_folder(honest)
        start.wait()
        try:
            submit(files, results_dir)
            outcomes.append("stored")
        except SpotfakeError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes)[1] == "stored" and "already stored" in sorted(outcomes)[0], outcomes
    folder = submission_folder(results_dir, "hostile-model", TASK)
    assert read_results(folder / "results.json")["source"] == "submitted"
    assert sorted(p.name for p in folder.parent.iterdir()) == [TASK]


def test_reproduced_runs_skip_a_submissions_staging_folder(tmp_path: Path) -> None:
    """The suspicion check reads the reproduced runs while another submission may be staging (and then
    removing) a hidden ``.incoming-*`` folder: that folder is never read (a race once failed the submit)."""
    from spotfake.leaderboard.submission import reproduced_runs

    committed = Path(__file__).resolve().parents[1] / "results" / "reproduced" / "npr-demo" / "demo"
    for folder in ("npr-demo/demo", "other/.incoming-x1"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "results.json").write_bytes((committed / "results.json").read_bytes())
    assert len(reproduced_runs(tmp_path, "demo")) == 1


# ---------------------------------------------------------------------------------------------- fuzzing

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _accepted_or_refused_in_one_line(files: SubmissionFiles) -> None:
    """The checker either accepts or refuses with one SpotfakeError line: never another exception."""
    try:
        check_submission(files)
    except SpotfakeError as exc:
        assert "\n" not in str(exc)


def _refused_in_one_line(files: SubmissionFiles) -> None:
    """The checker refuses with one SpotfakeError line (accepting, or any other exception, fails)."""
    with pytest.raises(SpotfakeError) as info:
        check_submission(files)
    assert "\n" not in str(info.value)


@FUZZ
@given(results=st.binary(max_size=300), samples=st.binary(max_size=300))
def test_random_bytes_are_refused_in_one_line(results: bytes, samples: bytes) -> None:
    _refused_in_one_line(SubmissionFiles(results=results, samples=samples, origin="fuzz"))


@FUZZ
@given(lines=st.lists(JSON, min_size=1, max_size=4))
def test_random_json_records_are_refused_in_one_line(honest: Path, lines: list[object]) -> None:
    samples = "".join(json.dumps(line) + "\n" for line in lines).encode()
    _refused_in_one_line(SubmissionFiles((honest / "results.json").read_bytes(), samples, "fuzz"))


@FUZZ
@given(path=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3), value=JSON)
def test_a_random_value_anywhere_in_results_is_refused_or_checked(
    honest: Path, path: list[str], value: object
) -> None:
    results: Any = json.loads((honest / "results.json").read_text())
    node = results
    keys = list(results)
    for step in path[:-1]:
        key = keys[sum(map(ord, step)) % len(keys)] if isinstance(node, dict) and keys else step
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            break
        node, keys = node[key], list(node[key])
    if isinstance(node, dict):
        node[keys[sum(map(ord, path[-1])) % len(keys)] if keys else path[-1]] = value
    files = SubmissionFiles(json.dumps(results).encode(), (honest / "samples.jsonl").read_bytes(), "fuzz")
    _accepted_or_refused_in_one_line(files)
