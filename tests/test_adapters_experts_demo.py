"""The embedded demo experts: committed weights that are small, safe to load, and answer with p(fake)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from zoo_reference import sha256_of

from spotfake.adapters.demo_models import LINEAR_PROBE_WEIGHTS, NPR_DEMO_WEIGHTS
from spotfake.adapters.experts.checkpoints import read_config
from spotfake.adapters.experts.expert import ExpertAdapter
from spotfake.adapters.experts.probe import backbone_file, lite0_transform
from spotfake.harness.model import Item, build_model
from spotfake.harness.task import load_task

REPRODUCED = Path(__file__).resolve().parent.parent / "results" / "reproduced"


@pytest.mark.parametrize(
    ("path", "arch"), [(LINEAR_PROBE_WEIGHTS, "linear-probe"), (NPR_DEMO_WEIGHTS, "npr")]
)
def test_committed_weights_are_small_safetensors_with_their_config(path: Path, arch: str) -> None:
    assert path.is_file(), f"{path} is missing: train it as docs/experts.md says"
    assert path.stat().st_size < 1_000_000
    with safe_open(str(path), framework="pt") as handle:
        config = read_config(path, handle.metadata())
    assert config is not None and config["arch"] == arch


def _committed_scores(model: str, n: int) -> dict[str, float]:
    """The first ``n`` (id, score) pairs of the committed demo run of ``model``."""
    path = REPRODUCED / model / "demo" / "samples.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:n]]
    return {r["id"]: r["score"] for r in records}


def _expert(name: str, **args: str) -> ExpertAdapter:
    model = build_model(name, {"device": "cpu", **args})
    assert isinstance(model, ExpertAdapter)
    return model


def _demo_items(ids: list[str]) -> list[Item]:
    by_id = {sample.id: sample for sample in load_task("demo").samples}
    return [Item(by_id[i], by_id[i].load_images()) for i in ids]


def test_npr_demo_loads_its_committed_weights_by_default() -> None:
    model = _expert("npr-demo")
    with safe_open(str(NPR_DEMO_WEIGHTS), framework="pt") as handle:
        committed = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    loaded = model.network.state_dict()
    assert set(loaded) == set(committed)
    # the file's tensors, bit for bit
    assert all(torch.equal(loaded[key], committed[key]) for key in committed)
    assert model.settings() == {
        "threshold": 0.5,
        "arch": "npr-demo",
        "preprocess": {"resize": None, "crop": None, "norm": "imagenet", "interpolation": "bilinear"},
        "layers": [1, 1],
        "width": 16,
        "sha256": {"npr_demo.safetensors": sha256_of(NPR_DEMO_WEIGHTS)},
    }
    assert model.weights_hash()
    # and they answer as in the committed demo run (the same 64x64 test images, the same p(fake))
    expected = _committed_scores("npr-demo", 12)
    responses = model.predict(_demo_items(list(expected)))
    assert all(r.error is None and r.text for r in responses)
    got = [r.score for r in responses]
    assert got == pytest.approx(list(expected.values()), abs=1e-5)
    assert len({round(v or 0.0, 3) for v in got}) > 3  # distinct answers, not one constant


def test_random_weights_would_not_pass_the_committed_run_check(tmp_path: Path) -> None:
    from spotfake.adapters.experts.checkpoints import save_weights
    from spotfake.adapters.experts.npr import build_network

    with safe_open(str(NPR_DEMO_WEIGHTS), framework="pt") as handle:
        config = read_config(NPR_DEMO_WEIGHTS, handle.metadata())
    assert config is not None
    torch.manual_seed(1)
    save_weights(tmp_path / "random.safetensors", build_network(config).state_dict(), config)
    model = _expert("npr-demo", path=str(tmp_path / "random.safetensors"))
    expected = _committed_scores("npr-demo", 12)
    got = [r.score for r in model.predict(_demo_items(list(expected)))]
    assert got != pytest.approx(list(expected.values()), abs=1e-5)


@pytest.mark.slow
def test_linear_probe_loads_its_committed_head_by_default() -> None:
    model = _expert("linear-probe")
    assert model.config["C"] is not None
    with safe_open(str(LINEAR_PROBE_WEIGHTS), framework="pt") as handle:
        committed = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    head = model.network.get_submodule("head").state_dict()
    assert set(head) == set(committed) and all(torch.equal(head[k], committed[k]) for k in committed)
    expected = _committed_scores("linear-probe", 4)
    responses = model.predict(_demo_items(list(expected)))
    assert [r.score for r in responses] == pytest.approx(list(expected.values()), abs=1e-5)
    settings = model.settings()
    assert settings["preprocess"] == {
        "resize": ["shorter", 256],
        "crop": ["center", 224],
        "pad": "zero",
        "norm": {"mean": [127.0] * 3, "std": [128.0] * 3},
        "interpolation": "bilinear",
        "backend": "pil",
        "pixels": "byte",
    }
    assert settings["backbone"] == "efficientnet-lite0"
    assert set(settings["sha256"]) == {LINEAR_PROBE_WEIGHTS.name, backbone_file().name}
    assert settings["sha256"][LINEAR_PROBE_WEIGHTS.name] == sha256_of(LINEAR_PROBE_WEIGHTS)


def test_the_linear_probe_spec_is_the_packages_byte_scale_transform() -> None:
    from PIL import Image
    from torchvision import transforms

    image = Image.fromarray(torch.randint(0, 256, (300, 257, 3), dtype=torch.uint8).numpy())
    reference = transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), transforms.PILToTensor()]
    )
    assert torch.equal(lite0_transform(image), (reference(image).float() - 127.0) / 128.0)
