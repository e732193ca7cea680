"""``spotfake verify-run``: the *reproduced* tier. The declared model is re-run here and the submission is
accepted only when the model settings (weights' sha256 included) and the per-sample answers agree."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fixtures.leaderboard.board import Scorer, copy_run, register_task, write_fakeclue_data

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item
from spotfake.harness.registry import MODELS
from spotfake.harness.results import read_results
from spotfake.harness.runner import RunOptions, run
from spotfake.harness.types import Record, Response
from spotfake.leaderboard.data import load_board, results_frame
from spotfake.leaderboard.received import files_from_folder
from spotfake.leaderboard.submission.agreement import (
    TOLERANCES,
    Tolerance,
    compare_answers,
    settings_differences,
)
from spotfake.leaderboard.submission.reproduce import reproduce, tolerance_for

pytestmark = pytest.mark.xdist_group("leaderboard_verify_run")
TASK = "lbtoy-verify-run"
MODEL = "vr-weighted"


class Weighted(Scorer):
    """An expert whose declared settings carry the sha256 of its weight file, as the real adapters' do."""

    name = MODEL

    def __init__(self, weights: str = "") -> None:
        self.digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()

    def settings(self) -> dict[str, object]:
        return {"arch": "toy", "device": "cpu", "sha256": {"weights.bin": self.digest}}


class Tampered(Weighted):
    """The same declared model with the first score of each batch moved by 0.03: a self-consistent forgery."""

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = super().predict(items)
        return [
            Response(score=min(1.0, r.score + 0.03)) if i == 0 and r.score is not None else r
            for i, r in enumerate(out)
        ]


def _records(
    scores: Sequence[float | None], verdicts: Sequence[str], texts: Sequence[str] | None = None
) -> list[Record]:
    texts = texts or [""] * len(scores)
    return [
        Record(id=str(i), label="fake", category=None, score=s, verdict=v, response=t or None)  # type: ignore[arg-type]
        for i, (s, v, t) in enumerate(zip(scores, verdicts, texts, strict=True))
    ]


def test_answers_agree_within_the_kind_tolerance() -> None:
    expert = TOLERANCES["expert"]
    same = compare_answers(
        _records([0.9, 0.2], ["fake", "real"]), _records([0.9, 0.2], ["fake", "real"]), expert
    )
    assert same.reproduced and same.max_score_diff == 0.0
    moved = compare_answers(
        _records([0.9, 0.2], ["fake", "real"]), _records([0.9, 0.25], ["fake", "real"]), expert
    )
    assert not moved.reproduced and moved.score_misses == (("1", 0.2, 0.25),)
    assert "1 of 2 scores differ beyond the tolerance" in moved.refusal()
    # a verdict may differ only where both scores sit within the tolerance of the threshold
    edge = compare_answers(_records([0.50001], ["fake"]), _records([0.49999], ["real"]), expert)
    assert edge.reproduced and edge.flips == ()
    lmm = TOLERANCES["lmm"]
    answers = ["fake"] * 200
    one_flip = ["real"] + ["fake"] * 199
    two_flips = ["real", "real"] + ["fake"] * 198
    none = [None] * 200
    assert compare_answers(
        _records(none, answers), _records(none, one_flip), lmm
    ).reproduced  # 2 of 200 allowed
    assert compare_answers(_records(none, answers), _records(none, two_flips), lmm).reproduced
    three = compare_answers(_records(none, answers), _records(none, ["real"] * 3 + ["fake"] * 197), lmm)
    assert not three.reproduced and "3 of 200 verdicts differ, 2 allowed" in three.refusal()
    texts = compare_answers(_records([None], ["fake"], ["a b"]), _records([None], ["fake"], ["a c"]), lmm)
    assert texts.reproduced and texts.same_text == 0  # texts are counted, not required


def test_settings_differences_name_each_key_and_ignore_where_it_ran() -> None:
    declared = {"arch": "x", "device": "cuda:0", "sha256": {"a.pth": "1" * 64}, "preprocess": {"crop": 224}}
    here = {"arch": "x", "device": "cpu", "sha256": {"a.pth": "2" * 64}, "preprocess": {"crop": 256}}
    said = settings_differences(declared, here)
    assert [s.split(":")[0] for s in said] == ["preprocess.crop", "sha256.a.pth"]
    assert settings_differences(declared, declared | {"device": "mps"}) == []
    assert tolerance_for("expert", flip_rate=0.5) == Tolerance(1e-4, 0.5)
    with pytest.raises(SpotfakeError, match="--flip-rate must be in"):
        tolerance_for("lmm", flip_rate=2.0)
    with pytest.raises(SpotfakeError, match="--score-atol must be >= 0"):
        tolerance_for("expert", score_atol=-1.0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("verify-run")
    task = register_task(TASK, write_fakeclue_data(root / "data"))
    MODELS.register(MODEL, Weighted, kind="expert", replace=True)
    weights = root / "theirs" / "weights.bin"
    weights.parent.mkdir()
    weights.write_bytes(b"toy weights v1")
    folders = {}
    for label, model in (("honest", Weighted(str(weights))), ("tampered", Tampered(str(weights)))):
        options = RunOptions(output_dir=root / label, batch_size=8, workers=1, progress=False)
        folders[label] = run(model, {"weights": str(weights)}, task, options).folder
    mine = root / "mine" / "weights.bin"  # the board host's copy of the declared checkpoint
    mine.parent.mkdir()
    mine.write_bytes(weights.read_bytes())
    other = root / "other.bin"
    other.write_bytes(b"toy weights v2")
    yield {"root": root, "mine": mine, "other": other, **folders}
    MODELS._entries.pop(MODEL, None)


def test_a_declared_model_that_reproduces_is_stored_as_reproduced(
    setup: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results_dir = tmp_path / "results"
    argv = ["verify-run", str(setup["honest"]), "--results-dir", str(results_dir)]
    assert main([*argv, "--model-args", f"weights={setup['mine']}"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"reproduced: {MODEL} on {TASK}: 24 of 24 verdicts agree, largest |p(fake) difference| 0"
    )
    (stored,) = (results_dir / "reproduced").rglob("results.json")
    results = read_results(stored)
    assert results["source"] == "reproduced"
    assert results["model"]["args"] == {"weights": str(setup["mine"])}  # this host's run, this host's paths
    provenance = results["provenance"]
    assert provenance["tier"] == "reproduced" and provenance["agreement"]["verdicts_differ"] == 0
    submitted = hashlib.sha256((setup["honest"] / "results.json").read_bytes()).hexdigest()
    assert provenance["submission"]["results_sha256"] == submitted
    frame = results_frame(load_board(results_dir, None).for_task(TASK))
    assert list(frame["source"]) == ["reproduced"]
    # the same run again is refused before anything runs; --replace replaces it
    assert main([*argv, "--model-args", f"weights={setup['mine']}"]) == 2
    err = capsys.readouterr().err
    assert "verify-run refused: a reproduced run of" in err and "add --replace" in err
    assert "Running" not in err
    assert main([*argv, "--model-args", f"weights={setup['mine']}", "--replace"]) == 0
    assert [p.name for p in stored.parent.iterdir()] != [] and len(list(stored.parent.parent.iterdir())) == 1


def test_other_weights_are_refused_naming_the_setting(setup: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(
        SpotfakeError, match=r"setting\(s\) differ: sha256\.weights\.bin: submitted [0-9a-f]+, here"
    ):
        reproduce(
            files_from_folder(setup["honest"]),
            tmp_path / "results",
            tmp_path / "work",
            model_args={"weights": str(setup["other"])},
        )
    assert not (tmp_path / "results").exists()


def test_a_self_consistent_forgery_is_refused_by_its_answers(setup: dict[str, Path], tmp_path: Path) -> None:
    """The tampered run recomputes (its numbers match its answers), declares the real model and its
    weights, but three of its scores (one per batch of 8) are not what that model answers."""
    with pytest.raises(SpotfakeError, match=r"3 of 24 scores differ beyond the tolerance \(e\.g\. '"):
        reproduce(files_from_folder(setup["tampered"]), tmp_path / "results", tmp_path / "work")
    assert not (tmp_path / "results").exists()


def test_an_unregistered_or_mis_kinded_model_stays_self_reported(
    setup: dict[str, Path], tmp_path: Path
) -> None:
    renamed = copy_run(setup["honest"], tmp_path / "renamed")
    results = json.loads((renamed / "results.json").read_text())
    results["model"]["name"] = "my-private-detector"
    (renamed / "results.json").write_text(json.dumps(results))
    with pytest.raises(SpotfakeError, match="'my-private-detector' is not a model spotfake can build here"):
        reproduce(files_from_folder(renamed), tmp_path / "results", tmp_path / "work")


def test_a_real_adapter_reproduces_on_the_demo_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """npr-demo on the embedded demo suite: its packaged weights' sha256 and preprocessing are compared."""
    assert main(["run", "--model", "npr-demo", "--task", "demo", "--output-dir", str(tmp_path / "runs")]) == 0
    (folder,) = (p.parent for p in (tmp_path / "runs").rglob("results.json"))
    capsys.readouterr()
    assert main(["verify-run", str(folder), "--results-dir", str(tmp_path / "results")]) == 0
    assert capsys.readouterr().out.startswith("reproduced: npr-demo on demo: 480 of 480 verdicts agree")
