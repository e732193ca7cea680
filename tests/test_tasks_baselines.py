"""Every task end to end through `spotfake run` with the trivial baselines and no images: the counts of the
published sets, and always-fake's accuracy equal to the share of fake samples (always-real's to the rest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.shared import SharedData

from spotfake.harness.cli import main
from spotfake.harness.task import load_task

FIXTURE = Path(__file__).parent / "fixtures" / "tasks" / "fakeclue_mini"

PUBLISHED = [
    ("loki", "LOKI", 2217),
    ("loki-judgment", "LOKI", 4434),
    ("loki-mc", "LOKI", 2634),
    ("loki-explain", "LOKI", 229),
    ("ddvqa", "DD-VQA", 1323),
]


def run_baselines(task: str, root: Path, out: Path) -> dict[str, dict[str, float]]:
    metrics = {}
    for model in ("always-fake", "always-real"):
        argv = ["run", "--model", model, "--task", task, "--data-root", str(root)]
        assert main([*argv, "--output-dir", str(out), "--bootstrap", "20", "--quiet"]) == 0
        results = json.loads((out / model / task / "results.json").read_text(encoding="utf-8"))
        metrics[model] = results["metrics"]
    return metrics


def check(task: str, root: Path, out: Path, n: int) -> None:
    loaded = load_task(task, root)
    assert len(loaded.samples) == n
    fake_share = sum(s.label == "fake" for s in loaded.samples) / n
    metrics = run_baselines(task, root, out)
    for model, share in (("always-fake", fake_share), ("always-real", 1 - fake_share)):
        assert metrics[model]["n"] == n
        assert metrics[model]["unparsed_rate"] == 0
        assert metrics[model]["acc"] == pytest.approx(share, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize(("task", "folder", "n"), PUBLISHED)
def test_published_sets_run_without_images(
    task: str, folder: str, n: int, tmp_path: Path, shared_data: SharedData
) -> None:
    check(task, shared_data("data", folder), tmp_path, n)


def test_fakeclue_fixture_runs_end_to_end(tmp_path: Path) -> None:
    check("fakeclue", FIXTURE, tmp_path, 8)


def test_an_image_folder_runs_end_to_end(tmp_path: Path) -> None:
    for rel in ("gen/0_real/a.png", "gen/1_fake/b.png", "gen/1_fake/c.png"):
        (tmp_path / "d" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / rel).write_bytes(b"x")
    check("imagefolder", tmp_path / "d", tmp_path / "runs", 3)
