"""Robustness sweeps: a clean point plus each strength, finished points reused, tables, bad input exits 2."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import TOY_TASK
from PIL import Image

from spotfake.harness import cli
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.robustness import plan, robustness_tables, sweep
from spotfake.harness.runner import RunOptions
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response


class Smoothness(Model):
    """p(fake) = how smooth the image is, so JPEG and blur move every score; counts what it is asked."""

    kind = "expert"
    needs_images = True

    def __init__(self) -> None:
        self.name = "smooth"
        self.asked = 0

    def predict(self, items: Sequence[Item]) -> list[Response]:
        self.asked += len(items)
        out = []
        for item in items:
            arr = np.asarray(item.images[0], dtype=np.float64)
            out.append(Response(score=float(1.0 - np.abs(np.diff(arr, axis=1)).mean() / 128.0)))
        return out


def images(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        noise = 60 if i % 3 == 0 else 20  # every third sample (the real ones) is grainier
        base = np.full((32, 32, 3), 128.0) + rng.normal(0, noise, (32, 32, 3))
        Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(root / f"img_{i}.png")
    return root


def test_plan_puts_clean_first_and_checks_every_axis() -> None:
    points = plan(["jpeg:95,75", "blur:1", "jpeg:75"])
    assert [None if p is None else p.spec for p in points] == [None, "jpeg:95", "jpeg:75", "blur:1"]
    with pytest.raises(SpotfakeError, match="required"):
        plan([])
    with pytest.raises(SpotfakeError, match=r"'jpeg:95,0'.*out of range"):
        plan(["jpeg:95,0"])


def test_sweep_runs_each_point_once_and_reuses_finished_ones(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), data_root=images(tmp_path / "imgs", 12), task_args={"n": 12})
    options = RunOptions(
        output_dir=tmp_path / "runs", progress=False, workers=1, scoring=ScoringOptions(n_bootstrap=50)
    )
    points = plan(["jpeg:90,30"])
    model = Smoothness()
    seen: list[tuple[str, int]] = []
    first = sweep(
        model,
        {},
        task,
        points,
        options,
        on_point=lambda p, outcome: seen.append((p.spec if p else "clean", outcome.n_predicted)),
    )
    assert model.asked == 36
    assert seen == [("clean", 12), ("jpeg:90", 12), ("jpeg:30", 12)]
    assert sorted(p.name for p in (tmp_path / "runs" / "smooth").iterdir()) == [
        "toy@n=12",
        "toy@n=12@jpeg30",
        "toy@n=12@jpeg90",
    ]

    again = Smoothness()
    second = sweep(again, {}, task, points, options)
    assert again.asked == 0
    assert [r["run_key"] for r in second] == [r["run_key"] for r in first]

    rescored = Smoothness()
    other = RunOptions(
        output_dir=tmp_path / "runs", progress=False, workers=1, scoring=ScoringOptions(n_bootstrap=60)
    )
    third = sweep(rescored, {}, task, points, other)
    assert rescored.asked == 0  # records are reused; only scoring (another bootstrap size) is redone
    assert third[1]["scoring"]["bootstrap"]["resamples"] == 60

    table = robustness_tables(first, "acc", "Acc")
    lines = table.splitlines()
    assert lines[0] == "Acc vs jpeg"
    assert lines[1].split() == ["model", "clean", "jpeg:90", "jpeg:30"]
    assert lines[2].startswith("smooth@n=12 ")  # the run folder names n=12 (not the task default) too
    clean_acc = first[0]["metrics"]["acc"]
    assert f"{clean_acc:.3f}" in lines[2]


def test_robustness_command_prints_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["robustness", "--model", "random", "--task", str(TOY_TASK), "--perturb", "jpeg:90,50"]
    argv += ["--perturb", "blur:1", "--output-dir", str(tmp_path), "--bootstrap", "20", "--quiet"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Acc vs jpeg" in out and "Acc vs blur" in out and "AUC vs jpeg" in out
    assert "jpeg:90" in out and "jpeg:50" in out and "blur:1" in out
    saved = json.loads((tmp_path / "random" / "toy@jpeg50" / "results.json").read_text())
    assert saved["perturbation"]["spec"] == "jpeg:50"


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--perturb", "jpeg:95,0"], "out of range"),
        (["--perturb", "jpg:95"], "did you mean 'jpeg'"),
        ([], "--perturb is required"),
        (["--perturb", "jpeg:90", "--metrics", "acuracy"], "acc"),
    ],
)
def test_bad_robustness_input_exits_2_before_a_model_is_built(
    extra: list[str],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_model(*args: object, **kwargs: object) -> Model:
        raise AssertionError("a model was built")

    monkeypatch.setattr("spotfake.harness.model.build_model", no_model)
    argv = ["robustness", "--model", "random", "--task", str(TOY_TASK), "--output-dir", str(tmp_path), *extra]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err


def test_a_finished_sweep_is_reused_without_building_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["robustness", "--model", "random", "--task", str(TOY_TASK), "--perturb", "jpeg:90,50"]
    argv += ["--output-dir", str(tmp_path), "--bootstrap", "20", "--quiet"]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out

    def no_model(*args: object, **kwargs: object) -> Model:
        raise AssertionError("a model was built")

    monkeypatch.setattr("spotfake.harness.model.build_model", no_model)
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == first
    assert captured.err.count("0 predicted") == 3


def test_presets_and_chains_get_a_table_with_their_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["robustness", "--model", "random", "--task", str(TOY_TASK), "--perturb", "social"]
    argv += ["--perturb", "resize:0.5+jpeg:75", "--output-dir", str(tmp_path), "--bootstrap", "20", "--quiet"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    for spec, slug in (("social", "social"), ("resize:0.5+jpeg:75", "resize0.5+jpeg75")):
        saved = json.loads((tmp_path / "random" / f"toy@{slug}" / "results.json").read_text())
        block = out.split(f"Acc vs {spec}\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert block[0].split() == ["model", "clean", spec]
        assert block[1].split()[0] == "random"
        assert f"{saved['metrics']['acc']:.3f}" == block[1].split()[-3]  # value [low, high]


def test_a_table_column_names_each_strength_exactly() -> None:
    def run(spec: str | None, steps: list[dict[str, object]], acc: float) -> dict[str, object]:
        out: dict[str, object] = {"model": {"name": "m"}, "metrics": {"acc": acc}, "ci": {}}
        if spec is not None:
            out["perturbation"] = {"spec": spec, "slug": spec, "steps": steps}
        return out

    runs = [
        run(None, [], 0.9),
        run("blur:0.1234567", [{"name": "blur", "value": 0.1234567}], 0.8),
        run("blur:0.1234568", [{"name": "blur", "value": 0.1234568}], 0.7),
    ]
    header = robustness_tables(runs, "acc", "Acc").splitlines()[1].split()  # type: ignore[arg-type]
    assert header == ["model", "clean", "blur:0.1234567", "blur:0.1234568"]
