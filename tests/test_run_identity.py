"""One identity per run: the key, the folder and the display name come from RunIdentity, and read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO_ROOT, TOY_TASK

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import LazyModel
from spotfake.harness.perturb import parse_perturbation
from spotfake.harness.run_identity import RunIdentity, TaskIdentity
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task

COMMITTED = sorted(
    p
    for p in (REPO_ROOT / "results").rglob("results.json")
    if json.loads(p.read_text())["source"] != "reported"
)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.parent.relative_to(REPO_ROOT).as_posix())
def test_committed_runs_keep_their_folders_and_keys(path: Path) -> None:
    results = json.loads(path.read_text())
    identity = RunIdentity.from_results(results)
    assert identity.folder(path.parents[2]) == path.parent
    assert identity.key == results["run_key"]


def test_there_are_committed_runs_to_check() -> None:
    assert len(COMMITTED) >= 10


def test_a_run_reads_back_to_its_own_folder_key_and_name(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": "7"})
    perturbation = parse_perturbation("jpeg:75")
    options = RunOptions(
        output_dir=tmp_path,
        progress=False,
        workers=1,
        perturbation=perturbation,
        scoring=ScoringOptions(n_bootstrap=0),
    )
    outcome = run(LazyModel("random", {"seed": "3"}), {"seed": "3"}, task, options)
    assert outcome.results is not None
    made = RunIdentity.of("random", {"seed": "3"}, task, perturbation)
    read = RunIdentity.from_results(outcome.results)
    assert outcome.folder == made.folder(tmp_path) == read.folder(tmp_path)
    assert outcome.folder.relative_to(tmp_path).as_posix() == "random@seed=3/toy@n=7@jpeg75"
    assert read.key == outcome.results["run_key"]
    assert read.display_name() == "random@seed=3@n=7@jpeg75"
    assert read.display_name(with_perturbation=False) == "random@seed=3@n=7"
    assert not read.is_plain and RunIdentity.of("random", {}, load_task(str(TOY_TASK))).is_plain


def test_secrets_and_paths_never_reach_a_folder_or_a_name() -> None:
    task = TaskIdentity(name="demo", version="1", data_fingerprint="d", defaults={})
    identity = RunIdentity("openai", task, {"api_key": "sk-secret", "path": "/home/me/ckpt/model-7b"})
    for text in (identity.model_folder, identity.display_name(), str(identity.folder(Path("runs")))):
        assert "sk-secret" not in text and "/home/me" not in text
    assert identity.model_folder.startswith("openai@path=model-7b-")


def test_a_key_needs_the_fingerprint_and_a_readable_perturbation() -> None:
    task = TaskIdentity(name="demo", version="1", data_fingerprint="d", defaults={})
    with pytest.raises(SpotfakeError, match="fingerprint"):
        _ = RunIdentity("m", task).key
    unknown = RunIdentity.from_results(
        {
            "model": {"name": "m", "fingerprint": "f"},
            "task": {"name": "demo"},
            "perturbation": {"spec": "warp:3", "slug": "warp3"},
        }
    )
    assert unknown.display_name() == "m@warp3"  # shown as recorded ...
    with pytest.raises(SpotfakeError):
        _ = unknown.key  # ... but never given a key it may not have had


def test_a_long_perturbation_chain_gets_a_short_unique_folder(tmp_path: Path) -> None:
    steps = "+".join(f"jpeg:{q}" for q in range(50, 90))  # 40 steps
    task = load_task(str(TOY_TASK), task_args={"n": "4"})
    perturbation = parse_perturbation(steps)
    options = RunOptions(
        output_dir=tmp_path,
        progress=False,
        workers=1,
        perturbation=perturbation,
        scoring=ScoringOptions(n_bootstrap=0),
    )
    outcome = run(LazyModel("random", {}), {}, task, options)
    assert outcome.results is not None and outcome.results["perturbation"]["spec"] == steps
    assert len(outcome.folder.name) <= 120 and outcome.folder.name.startswith("toy@n=4@jpeg50+jpeg51")
    other = RunIdentity.of("random", {}, task, parse_perturbation(steps + "+jpeg:90"))
    assert other.task_folder != outcome.folder.name  # the hash keeps long chains apart
    assert RunIdentity.from_results(outcome.results).display_name().endswith("+jpeg89")
