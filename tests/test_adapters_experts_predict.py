"""Expert classifiers as models: p(fake) plus a verdict text at the threshold, batched by image size,
fingerprints that follow the settings, and a run end to end through ``spotfake run``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spotfake.adapters.experts import npr
from spotfake.adapters.experts.base import FAKE_TEXT, REAL_TEXT
from spotfake.adapters.experts.checkpoints import save_weights
from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, build_model
from spotfake.harness.registry import MODELS
from spotfake.harness.types import Sample

TINY = {**npr.DEFAULT_CONFIG, "layers": [1, 1], "width": 8, "resize": None}


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "npr_tiny.safetensors"
    save_weights(path, npr.NPRNet(layers=[1, 1], width=8).state_dict(), TINY)
    return path


def _items(sizes: list[tuple[int, int]], seed: int = 0) -> list[Item]:
    rng = np.random.default_rng(seed)
    items = []
    for index, (h, w) in enumerate(sizes):
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        sample = Sample(id=f"s{index}", label="fake", prompt="real or fake?", images=(Path(f"{index}.png"),))
        items.append(Item(sample, [image]))
    return items


def test_registered_names_build_expert_adapters() -> None:
    from spotfake.adapters.demo_models import LinearProbe, NPRDemo
    from spotfake.adapters.experts.cnnspot import CNNSpot
    from spotfake.adapters.experts.univfd import UnivFD

    expected = {
        "cnnspot": CNNSpot,
        "univfd": UnivFD,
        "npr": npr.NPR,
        "linear-probe": LinearProbe,
        "npr-demo": NPRDemo,
    }
    for name, cls in expected.items():
        assert MODELS.get(name) is cls
        assert MODELS.entry(name).meta.get("kind") == "expert"  # declared once, in the registration
        assert cls.kind is None  # not a second time on the class


def test_each_response_has_a_score_and_the_verdict_text_at_the_threshold(weights: Path) -> None:
    items = _items([(32, 32)] * 6)
    model = build_model("npr", {"path": str(weights), "device": "cpu", "threshold": "0.5"})
    responses = model.predict(items)
    assert len(responses) == 6
    for response in responses:
        assert response.error is None and 0.0 <= response.score <= 1.0
        assert response.text == (FAKE_TEXT if response.score >= 0.5 else REAL_TEXT)
    always_fake = build_model("npr", {"path": str(weights), "device": "cpu", "threshold": "0"})
    assert {r.text for r in always_fake.predict(items)} == {FAKE_TEXT}
    scores = [r.score for r in responses]
    middle = sorted(scores)[3]
    split = build_model("npr", {"path": str(weights), "device": "cpu", "threshold": str(middle)})
    texts = [r.text for r in split.predict(items)]
    assert texts == [FAKE_TEXT if s >= middle else REAL_TEXT for s in scores]


def test_images_of_different_sizes_are_batched_by_shape_in_order(weights: Path) -> None:
    sizes = [(32, 32), (40, 24), (32, 32), (17, 33), (40, 24), (32, 32)]
    items = _items(sizes, seed=3)
    model = npr.NPR(path=str(weights), device="cpu", batch_size="2")
    batched = [r.score for r in model.predict(items)]
    one_by_one = [model.predict([item])[0].score for item in items]
    assert batched == pytest.approx(one_by_one, abs=1e-5)


def test_a_sample_with_two_images_gets_an_error_and_the_others_still_answer(weights: Path) -> None:
    items = _items([(32, 32), (32, 32)])
    pair = Item(items[0].sample, items[0].images + items[1].images)
    model = npr.NPR(path=str(weights), device="cpu")
    responses = model.predict([items[0], pair, items[1]])
    assert responses[1].error is not None and "exactly one image" in responses[1].error
    assert responses[0].score is not None and responses[2].score is not None


def test_fingerprint_follows_threshold_and_weights_but_not_batch_size(weights: Path, tmp_path: Path) -> None:
    base = npr.NPR(path=str(weights), device="cpu")
    assert npr.NPR(path=str(weights), device="cpu", batch_size="3").fingerprint() == base.fingerprint()
    assert npr.NPR(path=str(weights), device="cpu", threshold="0.7").fingerprint() != base.fingerprint()
    assert npr.NPR(path=str(weights), device="cpu", resize="64").fingerprint() != base.fingerprint()
    other = tmp_path / "other.safetensors"
    torch.manual_seed(1)
    save_weights(other, npr.NPRNet(layers=[1, 1], width=8).state_dict(), TINY)
    assert npr.NPR(path=str(other), device="cpu").weights_hash() != base.weights_hash()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"threshold": "1.5"}, "threshold"),
        ({"threshold": "nan"}, "threshold='nan': expected a finite number"),
        ({"batch_size": "0"}, "batch_size"),
        ({"device": "tpu9"}, "device"),
        ({"resize": "big"}, "resize"),
    ],
)
def test_bad_model_args_are_one_line_errors(weights: Path, args: dict[str, str], message: str) -> None:
    with pytest.raises(SpotfakeError, match=message):
        build_model("npr", {"path": str(weights), **args})


def _image_folder(root: Path, n: int = 4) -> None:
    rng = np.random.default_rng(0)
    for label in ("0_real", "1_fake"):
        (root / label).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / label / f"{i}.png")


def test_spotfake_run_end_to_end_with_an_expert(
    weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "folder"
    _image_folder(data)
    code = main(
        [
            "run",
            "--model",
            "npr",
            "--model-args",
            f"path={weights},device=cpu",
            "--task",
            "imagefolder",
            "--data-root",
            str(data),
            "--task-args",
            f"cache_dir={tmp_path / 'cache'}",
            "--output-dir",
            str(tmp_path / "runs"),
            "--bootstrap",
            "50",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "npr" in out
    # one folder per --model-args and per --task-args (paths show by their last part, plus a hash)
    (folder,) = (tmp_path / "runs").glob("npr@*/imagefolder@cache_dir=cache-*")
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 8
    assert all(r["error"] is None and 0.0 <= r["score"] <= 1.0 for r in records)
    assert all(r["verdict"] == ("fake" if r["score"] >= 0.5 else "real") for r in records)
    results = json.loads((folder / "results.json").read_text())
    assert "auc" in results["metrics"]
