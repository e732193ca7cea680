"""Perturbed runs: the model sees perturbed pixels, own folder and key, identical reruns, bad specs exit 2."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import TOY_TASK
from PIL import Image

from spotfake.harness import cli
from spotfake.harness.model import Item, Model
from spotfake.harness.perturb import parse_perturbation
from spotfake.harness.results import read_results
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response


class Pixels(Model):
    """p(fake) from the pixels it is given, so any change of the images shows in the score."""

    kind = "expert"
    needs_images = True

    def __init__(self) -> None:
        self.name = "pixels"
        self.sizes: list[tuple[int, int]] = []

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = []
        for item in items:
            arr = np.asarray(item.images[0], dtype=np.float64)
            self.sizes.append(item.images[0].size)
            out.append(Response(score=float(np.abs(np.diff(arr, axis=1)).mean() / 255.0)))
        return out


def toy_images(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)).save(root / f"img_{i}.png")
    return root


def options(out: Path, spec: str | None) -> RunOptions:
    return RunOptions(
        output_dir=out,
        progress=False,
        workers=2,
        scoring=ScoringOptions(n_bootstrap=50),
        perturbation=parse_perturbation(spec),
    )


def records_of(folder: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("latency_s")
    return rows


def test_perturbed_runs_are_identical_and_apart_from_clean_runs(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), data_root=toy_images(tmp_path / "imgs", 8), task_args={"n": 8})
    clean = run(Pixels(), {}, task, options(tmp_path / "runs", None))
    first = run(Pixels(), {}, task, options(tmp_path / "runs", "jpeg:50"))
    second = run(Pixels(), {}, task, options(tmp_path / "again", "jpeg:50"))

    assert clean.folder == tmp_path / "runs" / "pixels" / "toy@n=8"
    assert first.folder == tmp_path / "runs" / "pixels" / "toy@n=8@jpeg50"
    assert records_of(first.folder) == records_of(second.folder)
    clean_scores = [r["score"] for r in records_of(clean.folder)]
    jpeg_scores = [r["score"] for r in records_of(first.folder)]
    assert all(j < c for j, c in zip(jpeg_scores, clean_scores, strict=True))  # JPEG smooths noise

    results = read_results(first.folder / "results.json")
    assert results["perturbation"]["spec"] == "jpeg:50"
    assert results["perturbation"]["slug"] == "jpeg50"
    assert "perturbation" not in read_results(clean.folder / "results.json")
    assert results["run_key"] != clean.results["run_key"]  # type: ignore[index]

    reused = run(Pixels(), {}, task, options(tmp_path / "runs", "jpeg:50"))
    assert reused.n_predicted == 0 and reused.n_reused == 8


def test_the_model_sees_the_perturbed_images(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), data_root=toy_images(tmp_path / "imgs", 4), task_args={"n": 4})
    model = Pixels()
    run(model, {}, task, options(tmp_path / "runs", "resize:0.5+crop:16"))
    assert model.sizes == [(16, 16)] * 4


@pytest.mark.parametrize("spec", ["jpeg:0", "blur:-1", "jpg:75", "social:2"])
def test_bad_perturbation_exits_2_before_any_model_is_built(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_model(*args: object, **kwargs: object) -> Model:
        raise AssertionError("a model was built")

    monkeypatch.setattr("spotfake.harness.model.build_model", no_model)
    code = cli.main(
        [
            "run",
            "--model",
            "always-fake",
            "--task",
            str(TOY_TASK),
            "--perturb",
            spec,
            "--output-dir",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "valid: jpeg:QUALITY" in err
    assert not any(tmp_path.iterdir())


def test_the_terminal_table_names_the_perturbation(tmp_path: Path) -> None:
    from spotfake.harness.table import leaderboard_table

    task = load_task(str(TOY_TASK), data_root=toy_images(tmp_path / "imgs", 4), task_args={"n": 4})
    clean = run(Pixels(), {}, task, options(tmp_path / "runs", None))
    blurred = run(Pixels(), {}, task, options(tmp_path / "runs", "blur:2"))
    assert clean.results is not None and blurred.results is not None
    rows = leaderboard_table([clean.results, blurred.results]).splitlines()[2:]
    assert sorted(row.split()[1] for row in rows) == ["toy", "toy@blur2"]
