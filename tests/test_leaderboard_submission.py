"""Submission checks on honest and forged run folders: only what the leaderboard itself recomputes is stored."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fixtures.leaderboard.board import (
    METRICS,
    Explainer,
    copy_run,
    register_task,
    run_models,
    write_fakeclue_data,
)

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.results import read_records, read_results
from spotfake.leaderboard.received import Limits, files_from_folder, files_from_uploads, files_from_zip
from spotfake.leaderboard.submission import submission_folder, submit

pytestmark = pytest.mark.xdist_group("leaderboard_submission")
TASK = "lbtoy-submission"


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine run folder of a model on the test task, written by the engine's runner."""
    root = tmp_path_factory.mktemp("submission")
    task = register_task(TASK, write_fakeclue_data(root / "data"))
    (folder,) = run_models(task, root / "runs", [Explainer(name="honest-model")])
    return folder


@pytest.fixture
def forged(honest: Path, tmp_path: Path) -> Path:
    """A private copy of the honest run, for a test to tamper with."""
    return copy_run(honest, tmp_path / "forged")


def _load(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    results = json.loads((folder / "results.json").read_text())
    lines = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines() if x.strip()]
    return results, lines


def _save(
    folder: Path, results: dict[str, Any] | None = None, lines: list[dict[str, Any]] | None = None
) -> None:
    if results is not None:
        (folder / "results.json").write_text(json.dumps(results, indent=2))
    if lines is not None:
        (folder / "samples.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def _refused(folder: Path, tmp_path: Path, limits: Limits = Limits()) -> str:
    with pytest.raises(SpotfakeError) as info:
        submit(files_from_folder(folder, limits), tmp_path / "results", limits=limits)
    message = str(info.value)
    assert "\n" not in message
    assert not (tmp_path / "results" / "submitted").exists() or not any(
        (tmp_path / "results" / "submitted").rglob("results.json")
    ), "a refused submission must leave nothing behind"
    return message


def test_honest_submission_is_stored_with_recomputed_numbers_and_provenance(
    honest: Path, tmp_path: Path
) -> None:
    folder, _ = submit(files_from_folder(honest), tmp_path / "results")
    assert folder == submission_folder(tmp_path / "results", "honest-model", TASK)
    stored = read_results(folder / "results.json")  # schema-valid
    original = read_results(honest / "results.json")
    assert stored["source"] == "submitted"
    assert stored["metrics"] == original["metrics"]
    assert stored["per_category"] == original["per_category"]
    files = stored["provenance"]["files"]
    assert (
        files["results.json"]["sha256"] == hashlib.sha256((honest / "results.json").read_bytes()).hexdigest()
    )
    assert (
        files["samples.jsonl"]["sha256"]
        == hashlib.sha256((honest / "samples.jsonl").read_bytes()).hexdigest()
    )
    assert stored["provenance"]["submitted_source"] == "reproduced"
    # the received files are kept verbatim beside the leaderboard's own records
    assert (folder / "received.results.json").read_bytes() == (honest / "results.json").read_bytes()
    assert (folder / "received.samples.jsonl").read_bytes() == (honest / "samples.jsonl").read_bytes()
    ours = read_records(folder / "samples.jsonl")
    theirs = read_records(honest / "samples.jsonl")
    assert [(r.id, r.verdict, r.correct, r.rouge_l) for r in ours] == [
        (r.id, r.verdict, r.correct, r.rouge_l) for r in theirs
    ]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "no staging folder left"


def test_a_second_submission_of_the_same_run_needs_replace(honest: Path, tmp_path: Path) -> None:
    submit(files_from_folder(honest), tmp_path / "results")
    with pytest.raises(SpotfakeError, match="already stored"):
        submit(files_from_folder(honest), tmp_path / "results")
    folder, _ = submit(files_from_folder(honest), tmp_path / "results", replace=True)
    assert read_results(folder / "results.json")["source"] == "submitted"
    assert sorted(p.name for p in folder.parent.iterdir()) == [TASK]


def test_a_claimed_metric_that_disagrees_with_the_records_is_refused(forged: Path, tmp_path: Path) -> None:
    results, _ = _load(forged)
    true_acc = results["metrics"]["acc"]
    results["metrics"]["acc"] = 0.99
    _save(forged, results)
    message = _refused(forged, tmp_path)
    assert "'acc'" in message and "claimed 0.99" in message and f"recomputed {true_acc:.10g}" in message


def test_a_tiny_metric_drift_beyond_the_tolerance_is_refused(forged: Path, tmp_path: Path) -> None:
    results, _ = _load(forged)
    results["metrics"]["rouge_l"] += 1e-6
    _save(forged, results)
    assert "'rouge_l'" in _refused(forged, tmp_path)


def test_a_forged_per_category_value_is_refused(forged: Path, tmp_path: Path) -> None:
    results, _ = _load(forged)
    category = sorted(results["per_category"])[0]
    results["per_category"][category]["acc"] = 1.0 - results["per_category"][category]["acc"] / 2
    _save(forged, results)
    message = _refused(forged, tmp_path)
    assert "per_category" in message and repr(category) in message and "'acc'" in message


def test_better_answers_pasted_over_the_responses_are_refused(forged: Path, tmp_path: Path) -> None:
    """Responses changed but claimed per-sample values kept: the recomputed verdicts disagree."""
    _, lines = _load(forged)
    wrong = [x for x in lines if x["correct"] is False]
    assert wrong, "the fixture model must miss some samples"
    for x in wrong:
        x["response"] = f"This is a {x['label']} image."
    _save(forged, lines=lines)
    message = _refused(forged, tmp_path)
    assert "recomputed" in message


def test_changed_labels_are_refused(forged: Path, tmp_path: Path) -> None:
    """Flipping the labels of the samples a model got wrong would make it look perfect."""
    _, lines = _load(forged)
    flipped = next(x for x in lines if x["correct"] is False)
    flipped["label"] = "real" if flipped["label"] == "fake" else "fake"
    flipped["correct"] = True
    _save(forged, lines=lines)
    message = _refused(forged, tmp_path)
    assert "label" in message and repr(flipped["id"]) in message


def test_missing_ids_are_refused(forged: Path, tmp_path: Path) -> None:
    _, lines = _load(forged)
    _save(forged, lines=lines[:-2])
    message = _refused(forged, tmp_path)
    assert "2 of the 24 ids" in message and repr(lines[-1]["id"]) in message


def test_extra_ids_are_refused(forged: Path, tmp_path: Path) -> None:
    _, lines = _load(forged)
    lines.append({**lines[0], "id": "genimage/fake/not_in_task.png"})
    _save(forged, lines=lines)
    assert "not_in_task.png" in _refused(forged, tmp_path)


def test_duplicate_ids_are_refused(forged: Path, tmp_path: Path) -> None:
    _, lines = _load(forged)
    _save(forged, lines=[*lines, lines[3]])
    assert "duplicate id" in _refused(forged, tmp_path)


def test_oversized_files_are_refused_before_parsing(forged: Path, tmp_path: Path) -> None:
    size = (forged / "samples.jsonl").stat().st_size
    with pytest.raises(SpotfakeError, match="over the submission limit"):
        files_from_folder(forged, Limits(samples_bytes=size - 1))
    with pytest.raises(SpotfakeError, match="over the limit of 100 per record"):
        submit(files_from_folder(forged), tmp_path / "results", limits=Limits(line_bytes=100))


@pytest.mark.parametrize(
    ("which", "content", "expected"),
    [
        ("results.json", b'{"schema_version": 1, ', "results.json: malformed JSON at column 23"),
        ("results.json", b'{"model": "caf\xe9"}', "not UTF-8"),
        ("results.json", b'{"schema_version": 1, "schema_version": 1}', "duplicate key 'schema_version'"),
        ("results.json", b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
        ("samples.jsonl", b'{"id": "a"}\n{"id": \n', "samples.jsonl line 2: malformed JSON"),
        ("samples.jsonl", b'{"id": "a", "score": NaN}\n', "NaN is not a JSON number"),
        ("samples.jsonl", b'["id", "a"]\n', "expected a JSON object"),
        ("samples.jsonl", b'{"id": "a", "score": 1.5}\n', "'score' must be p(fake) in [0, 1]"),
        ("samples.jsonl", b'{"id": "a", "response": 5}\n', "'response' must be a string or null"),
    ],
)
def test_malformed_files_are_refused_with_file_and_place(
    forged: Path, tmp_path: Path, which: str, content: bytes, expected: str
) -> None:
    (forged / which).write_bytes(content)
    assert expected in _refused(forged, tmp_path)


def test_a_schema_violation_is_refused(forged: Path, tmp_path: Path) -> None:
    results, _ = _load(forged)
    results["metrics"]["acc"] = "high"
    _save(forged, results)
    message = _refused(forged, tmp_path)
    assert "schema" in message and "metrics/acc" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"source": "reported"}, "source 'reported' cannot be submitted"),
        ({"model_name": "../../escape"}, "not usable as a leaderboard name"),
        ({"task_name": "lbtoy-submisson"}, "did you mean"),
        ({"task_name": "tests/fixtures/evil.yaml"}, "unknown task"),
        ({"task_version": "0"}, "version '0'"),
        ({"fingerprint": "0123456789abcdef"}, "other annotation files"),
        ({"task_args": {"split": "train"}}, "task arguments differ"),
    ],
)
def test_identity_problems_are_refused(
    forged: Path, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    results, _ = _load(forged)
    results["source"] = change.get("source", results["source"])
    results["model"]["name"] = change.get("model_name", results["model"]["name"])
    results["task"]["name"] = change.get("task_name", results["task"]["name"])
    results["task"]["version"] = change.get("task_version", results["task"]["version"])
    results["task"]["data_fingerprint"] = change.get("fingerprint", results["task"]["data_fingerprint"])
    results["task"]["args"] = change.get("task_args", results["task"]["args"])
    _save(forged, results)
    assert expected in _refused(forged, tmp_path)


def test_a_forged_per_sample_rouge_is_refused(forged: Path, tmp_path: Path) -> None:
    _, lines = _load(forged)
    lines[5]["rouge_l"] = 1.0
    _save(forged, lines=lines)
    message = _refused(forged, tmp_path)
    assert "line 6" in message and "rouge_l" in message and repr(lines[5]["id"]) in message


def test_submitted_css_with_another_embedder_is_refused_only_when_css_is_scored(
    forged: Path, tmp_path: Path
) -> None:
    """The test task does not score CSS, so a claimed CSS value is a metric the task does not compute."""
    results, _ = _load(forged)
    results["metrics"]["css"] = 0.9
    _save(forged, results)
    assert "claims metric 'css', which the task does not compute" in _refused(forged, tmp_path)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zipped_run_folder_and_two_uploaded_files_are_read(honest: Path) -> None:
    results = (honest / "results.json").read_bytes()
    samples = (honest / "samples.jsonl").read_bytes()
    archive = _zip({"m/t/results.json": results, "m/t/samples.jsonl": samples, "__MACOSX/m/._x": b"junk"})
    files = files_from_uploads([("run.zip", archive)])
    assert (files.results, files.samples) == (results, samples)
    files = files_from_uploads([("samples.jsonl", samples), ("results.json", results)])
    assert (files.results, files.samples) == (results, samples)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"results.json": b"{}", "samples.jsonl": b"", "model.pkl": b"x"}, "unexpected file 'model.pkl'"),
        ({"results.json": b"{}"}, "no samples.jsonl"),
        ({"a/results.json": b"{}", "b/samples.jsonl": b""}, "same folder"),
        ({"results.json": b"{}", "samples.jsonl": b"\n" * 5000}, "over the submission limit"),
    ],
)
def test_bad_archives_are_refused(entries: dict[str, bytes], expected: str) -> None:
    with pytest.raises(SpotfakeError, match=expected):
        files_from_zip(_zip(entries), "run.zip", Limits(samples_bytes=1000))


def test_a_file_that_is_not_a_zip_is_refused() -> None:
    with pytest.raises(SpotfakeError, match="not a readable zip"):
        files_from_zip(b"PK\x03\x04 not really", "run.zip")
    with pytest.raises(SpotfakeError, match="upload one .zip"):
        files_from_uploads([("results.json", b"{}")])


def test_a_zip_lying_about_its_sizes_is_cut_off(honest: Path) -> None:
    """A member's real size is enforced while reading, whatever its header declares."""
    archive = bytearray(_zip({"results.json": b"{}", "samples.jsonl": b"x" * 4000}))
    # patch the declared uncompressed size in the central directory to 10 bytes
    at = archive.rfind(b"PK\x01\x02")
    while at != -1:
        name_len = int.from_bytes(archive[at + 28 : at + 30], "little")
        name = bytes(archive[at + 46 : at + 46 + name_len])
        if name == b"samples.jsonl":
            archive[at + 24 : at + 28] = (10).to_bytes(4, "little")
        at = archive.rfind(b"PK\x01\x02", 0, at)
    with pytest.raises(SpotfakeError):
        files_from_zip(bytes(archive), "run.zip", Limits(samples_bytes=1000))


@pytest.mark.slow
def test_css_is_recomputed_with_the_leaderboards_embedder(tmp_path: Path) -> None:
    task = register_task(
        "lbtoy-submission-css", write_fakeclue_data(tmp_path / "data", n=12), (*METRICS, "css")
    )
    (run,) = run_models(task, tmp_path / "runs", [Explainer(name="css-model")])
    results, lines = _load(run)
    assert results["metrics"]["css"] is not None and results["scoring"]["css_embedder"]
    folder, _ = submit(files_from_folder(run), tmp_path / "accepted")
    assert read_results(folder / "results.json")["metrics"]["css"] == pytest.approx(
        results["metrics"]["css"], abs=1e-6
    )

    forged = copy_run(run, tmp_path / "forged")
    lines[2]["css"] = min(1.0, lines[2]["css"] + 0.01)
    _save(forged, lines=lines)
    message = _refused(forged, tmp_path)
    assert "line 3" in message and "css" in message

    other = copy_run(run, tmp_path / "other-embedder")
    results["scoring"]["css_embedder"] = "some-other-model@0000"
    _save(other, results)
    assert "embedder 'some-other-model@0000'" in _refused(other, tmp_path)


def test_a_perturbed_submission_keeps_its_perturbation_and_folder(forged: Path, tmp_path: Path) -> None:
    results, _ = _load(forged)
    results["perturbation"] = {
        "spec": "jpeg:75",
        "slug": "jpeg75",
        "steps": [{"name": "jpeg", "value": 75.0}],
    }
    _save(forged, results)
    folder, _ = submit(files_from_folder(forged), tmp_path / "results")
    stored = read_results(folder / "results.json")
    assert stored["perturbation"]["spec"] == "jpeg:75"  # never stored (and ranked) as a clean run
    assert folder.name == f"{TASK}@jpeg75"
    assert not submission_folder(tmp_path / "results", "honest-model", TASK).exists()


def test_an_unreadable_perturbation_is_refused(forged: Path, tmp_path: Path) -> None:
    results, _ = _load(forged)
    results["perturbation"] = {"spec": "warp:3", "slug": "warp3", "steps": [{"name": "warp", "value": 3.0}]}
    _save(forged, results)
    assert "perturbation 'warp:3' cannot be read here" in _refused(forged, tmp_path)


def test_a_run_with_extra_metrics_is_verified_with_the_same_selection(tmp_path: Path) -> None:
    from fixtures.leaderboard.board import Scorer, register_task, run_models, write_fakeclue_data

    from spotfake.harness.task import choose_metrics

    task = choose_metrics(
        register_task(TASK + "-metrics", write_fakeclue_data(tmp_path / "data")), "+acc_oracle"
    )
    (folder,) = run_models(task, tmp_path / "runs", [Scorer()])
    claimed = read_results(folder / "results.json")
    assert claimed["scoring"]["metrics_requested"] == "+acc_oracle" and "acc_oracle" in claimed["metrics"]
    stored, _ = submit(files_from_folder(folder), tmp_path / "results")
    assert read_results(stored / "results.json")["metrics"]["acc_oracle"] == claimed["metrics"]["acc_oracle"]
    results, _ = _load(folder)
    results["scoring"]["metrics_requested"] = "+no_such_metric"
    _save(folder, results)
    assert "scoring.metrics_requested" in _refused(folder, tmp_path / "again")
