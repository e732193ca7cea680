"""Expert classifiers load their authors' checkpoint layouts, and nothing else: no arbitrary unpickling,
clear one-line errors for wrong files."""

from __future__ import annotations

import argparse
import json
import pathlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms
from zoo_reference import sha256_of

from spotfake.adapters.experts import cnnspot, npr, univfd
from spotfake.adapters.experts.checkpoints import load_checkpoint, read_config, save_weights
from spotfake.adapters.experts.expert import ExpertAdapter
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Model, build_model

IMAGENET = transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
)
"""The authors' evaluation transform at the images' own size (CNNSpot's demo, NPR with resize=none)."""


def _image(height: int = 40, width: int = 36, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _classifier(model: Model) -> ExpertAdapter:
    assert isinstance(model, ExpertAdapter)
    return model


def _write_config(weights: Path, config: dict) -> None:
    weights.with_suffix(".json").write_text(json.dumps(config))


def _direct_prob(network: torch.nn.Module, tensor: torch.Tensor) -> float:
    with torch.no_grad():
        return float(torch.sigmoid(network.eval()(tensor[None])).reshape(-1)[0])


@pytest.mark.parametrize("prefix", ["", "module."])
def test_cnnspot_loads_the_authors_wrapped_state_dict(tmp_path: Path, prefix: str) -> None:
    torch.manual_seed(0)
    config = {**cnnspot.DEFAULT_CONFIG, "layers": [1, 1, 1, 1]}
    network = cnnspot.build_network(config)
    # The released blur_jpg_prob*.pth files: {"model": state dict, "optimizer": ..., "total_steps": ...}.
    checkpoint = {
        "model": {prefix + k: v for k, v in network.state_dict().items()},
        "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4}]},
        "total_steps": 1234,
    }
    path = tmp_path / "blur_jpg_prob0.5.pth"
    torch.save(checkpoint, path)
    _write_config(path, {"layers": [1, 1, 1, 1]})

    model = _classifier(build_model("cnnspot", {"path": str(path), "device": "cpu"}))
    image = _image()
    expected = _direct_prob(network, IMAGENET(image))
    assert model.kind == "expert"
    assert model.scores([image])[0] == pytest.approx(expected, abs=1e-5)
    assert model.settings() == {
        "threshold": 0.5,
        "arch": "cnnspot",
        "preprocess": {"resize": None, "crop": None, "norm": "imagenet", "interpolation": "bilinear"},
        "layers": [1, 1, 1, 1],
        "sha256": {"blur_jpg_prob0.5.pth": sha256_of(path)},
    }


def test_cnnspot_crop224_is_the_torchvision_centre_crop(tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = cnnspot.build_network({**cnnspot.DEFAULT_CONFIG, "layers": [1, 1, 1, 1]})
    path = tmp_path / "blur_jpg_prob0.1.pth"
    torch.save({"model": network.state_dict()}, path)
    _write_config(path, {"layers": [1, 1, 1, 1]})
    model = cnnspot.CNNSpot(path=str(path), device="cpu", crop="24")
    assert model.settings()["preprocess"] == {
        "resize": None,
        "crop": ["center", 24],
        "pad": "zero",
        "norm": "imagenet",
        "interpolation": "bilinear",
    }
    image = _image(40, 31)
    reference = transforms.Compose([transforms.CenterCrop(24), IMAGENET])
    assert model.scores([image])[0] == pytest.approx(_direct_prob(network, reference(image)), abs=1e-5)


def test_cnnspot_default_architecture_is_resnet50_with_one_logit() -> None:
    network = cnnspot.build_network(dict(cnnspot.DEFAULT_CONFIG))
    state = network.state_dict()
    assert state["fc.weight"].shape == (1, 2048)
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert {k.split(".")[1] for k in state if k.startswith("layer3.")} == {str(i) for i in range(6)}


def test_npr_loads_the_authors_bare_state_dict(tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = npr.NPRNet(layers=[1, 1], width=8)
    path = tmp_path / "NPR.pth"
    torch.save(network.state_dict(), path)  # NPR.pth is a bare state dict
    _write_config(path, {"layers": [1, 1], "width": 8, "resize": None})

    model = _classifier(build_model("npr", {"path": str(path), "device": "cpu"}))
    image = _image(33, 41)  # odd sides: the last row and column are dropped
    expected = _direct_prob(network, IMAGENET(image))
    assert model.scores([image])[0] == pytest.approx(expected, abs=1e-5)
    assert model.settings() == {
        "threshold": 0.5,
        "arch": "npr",
        "preprocess": {"resize": None, "crop": None, "norm": "imagenet", "interpolation": "bilinear"},
        "layers": [1, 1],
        "width": 8,
        "sha256": {"NPR.pth": sha256_of(path)},
    }


def test_npr_resizes_to_256_square_bilinear_by_default(tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = npr.NPRNet(layers=[1, 1], width=8)
    path = tmp_path / "NPR.pth"
    torch.save(network.state_dict(), path)
    _write_config(path, {"layers": [1, 1], "width": 8})
    model = npr.NPR(path=str(path), device="cpu")
    assert model.spec.to_dict() == {
        "resize": ["square", 256],
        "crop": None,
        "norm": "imagenet",
        "interpolation": "bilinear",
        "backend": "pil",
    }
    image = _image(300, 200)
    reference = transforms.Compose([transforms.Resize((256, 256)), IMAGENET])  # their test transform
    assert model.scores([image])[0] == pytest.approx(_direct_prob(network, reference(image)), abs=1e-5)


def test_npr_default_architecture_matches_the_published_layout() -> None:
    state = npr.NPRNet().state_dict()
    assert state["conv1.weight"].shape == (64, 3, 3, 3)  # 3x3 stride-2 stem
    assert state["fc1.weight"].shape == (1, 512)
    assert {k.split(".")[1] for k in state if k.startswith("layer1.")} == {"0", "1", "2"}
    assert {k.split(".")[1] for k in state if k.startswith("layer2.")} == {"0", "1", "2", "3"}
    assert not any(k.startswith(("layer3", "layer4", "fc.")) for k in state)


def test_npr_residual_is_pixel_minus_its_2x2_block_anchor() -> None:
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7)
    residual = npr.npr_residual(x)
    even = x[..., :4, :6]
    anchor = even[..., ::2, ::2].repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    assert residual.shape == (2, 3, 4, 6)
    assert torch.equal(residual, even - anchor)
    blocky = anchor.clone()
    assert torch.count_nonzero(npr.npr_residual(blocky)) == 0


@pytest.fixture
def tiny_clip(tmp_path: Path) -> Path:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=16,
    )
    folder = tmp_path / "clip"
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    return folder


CLIP_CROP_32 = transforms.Compose(
    [
        transforms.CenterCrop(32),
        transforms.ToTensor(),
        transforms.Normalize([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]),
    ]
)
"""UnivFD's evaluation transform (no resize, ``CenterCrop``, CLIP mean/std) for a 32px tower."""


def _clip_direct(clip: Path, fc: torch.nn.Linear, image: Image.Image) -> float:
    from transformers import CLIPVisionModelWithProjection

    backbone = CLIPVisionModelWithProjection.from_pretrained(clip).eval()
    tensor = CLIP_CROP_32(image)[None]
    with torch.no_grad():
        return float(torch.sigmoid(fc(backbone(pixel_values=tensor).image_embeds))[0, 0])


def test_univfd_loads_the_authors_fc_weights(tmp_path: Path, tiny_clip: Path) -> None:
    torch.manual_seed(1)
    fc = torch.nn.Linear(16, 1)
    path = tmp_path / "fc_weights.pth"
    torch.save({"weight": fc.weight.detach().clone(), "bias": fc.bias.detach().clone()}, path)

    model = _classifier(
        build_model("univfd", {"path": str(path), "clip_path": str(tiny_clip), "device": "cpu"})
    )
    image = _image(48, 40)
    assert model.scores([image])[0] == pytest.approx(_clip_direct(tiny_clip, fc, image), abs=1e-5)
    assert model.settings() == {
        "threshold": 0.5,
        "arch": "univfd",
        "preprocess": {
            "resize": None,
            "crop": ["center", 32],
            "pad": "zero",
            "norm": "clip",
            "interpolation": "bicubic",
        },
        "backbone": "openai/clip-vit-large-patch14",
        "clip": "clip",
        "dtype": "float32",
        "sha256": {
            "fc_weights.pth": sha256_of(path),
            "model.safetensors": sha256_of(tiny_clip / "model.safetensors"),
        },
    }


def test_univfd_reads_only_the_head_of_a_full_training_checkpoint(tmp_path: Path, tiny_clip: Path) -> None:
    torch.manual_seed(2)
    fc = torch.nn.Linear(16, 1)
    full = {
        "model": {
            "model.visual.proj": torch.randn(32, 16),  # CLIP keys of the authors' trainer: ignored
            "fc.weight": fc.weight.detach().clone(),
            "fc.bias": fc.bias.detach().clone(),
        },
        "total_steps": 10,
    }
    path = tmp_path / "model_epoch_best.pth"
    torch.save(full, path)
    model = univfd.UnivFD(path=str(path), clip_path=str(tiny_clip), device="cpu")
    image = _image(20, 24)  # smaller than the crop: zero-padded, as transforms.CenterCrop does
    assert model.scores([image])[0] == pytest.approx(_clip_direct(tiny_clip, fc, image), abs=1e-5)


class _Payload:
    """Pickles to a call that creates a file: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return (pathlib.Path.touch, (self.marker,))


@pytest.mark.parametrize("model_name", ["cnnspot", "npr", "npr-demo"])
def test_a_pickled_object_in_a_checkpoint_is_refused_and_never_run(tmp_path: Path, model_name: str) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.pth"
    torch.save({"model": _Payload(marker), "total_steps": 1}, path)
    with pytest.raises(SpotfakeError, match="refusing to load .*evil.pth.*weights_only"):
        build_model(model_name, {"path": str(path), "device": "cpu"})
    assert not marker.exists()


def test_allow_namespace_lets_only_the_saved_training_options_through(tmp_path: Path) -> None:
    saved = tmp_path / "checkpoint-best.pth"
    torch.save({"model": {"w": torch.ones(2)}, "args": argparse.Namespace(lr=0.1)}, saved)
    with pytest.raises(SpotfakeError, match="refusing to load"):
        load_checkpoint(saved)
    obj, _ = load_checkpoint(saved, allow_namespace=True)
    assert obj["args"] == argparse.Namespace(lr=0.1) and torch.equal(obj["model"]["w"], torch.ones(2))
    marker = tmp_path / "payload-ran"
    evil = tmp_path / "evil.pth"
    torch.save({"model": _Payload(marker), "args": argparse.Namespace(lr=0.1)}, evil)
    with pytest.raises(SpotfakeError, match="refusing to load .*evil.pth"):
        load_checkpoint(evil, allow_namespace=True)
    assert not marker.exists()


def test_univfd_refuses_a_pickled_head(tmp_path: Path, tiny_clip: Path) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / "fc_weights.pth"
    torch.save({"weight": _Payload(marker)}, path)
    with pytest.raises(SpotfakeError, match="refusing to load"):
        univfd.UnivFD(path=str(path), clip_path=str(tiny_clip), device="cpu")
    assert not marker.exists()


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.pth"
    path.write_text("these are not weights")
    with pytest.raises(SpotfakeError) as err:
        npr.NPR(path=str(path), device="cpu")
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_checkpoint_and_missing_path_are_clear_errors(tmp_path: Path) -> None:
    where = "its authors publish it at github.com/PeterWang512/CNNDetection"
    with pytest.raises(SpotfakeError, match=f"checkpoint not found: .*nope.pth; {where}"):
        cnnspot.CNNSpot(path=str(tmp_path / "nope.pth"), device="cpu")
    with pytest.raises(SpotfakeError, match=f"no cnnspot checkpoint given: pass path=<file>; {where}"):
        cnnspot.CNNSpot(device="cpu")
    with pytest.raises(SpotfakeError, match="no univfd checkpoint given: .*UniversalFakeDetect"):
        univfd.UnivFD(device="cpu")


def test_weights_of_another_architecture_are_refused_by_key(tmp_path: Path) -> None:
    path = tmp_path / "npr.pth"
    torch.save(npr.NPRNet(layers=[1, 1], width=8).state_dict(), path)
    with pytest.raises(SpotfakeError, match="keys do not match the cnnspot architecture"):
        cnnspot.CNNSpot(path=str(path), device="cpu")


def test_a_config_that_disagrees_with_the_weights_names_the_tensor(tmp_path: Path) -> None:
    path = tmp_path / "npr.pth"
    torch.save(npr.NPRNet(layers=[1, 1], width=8).state_dict(), path)
    _write_config(path, {"layers": [1, 1], "width": 16})
    with pytest.raises(SpotfakeError, match=r"conv1.weight has shape \(8, 3, 3, 3\)"):
        npr.NPR(path=str(path), device="cpu")


def test_safetensors_carry_their_config_and_a_foreign_arch_is_refused(tmp_path: Path) -> None:
    network = npr.NPRNet(layers=[1, 1], width=8)
    config = {**npr.DEFAULT_CONFIG, "layers": [1, 1], "width": 8, "resize": None}
    path = tmp_path / "weights.safetensors"
    save_weights(path, network.state_dict(), config)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        assert read_config(path, handle.metadata()) == config
    model = npr.NPR(path=str(path), device="cpu")
    assert model.config["width"] == 8 and model.config["resize"] is None

    foreign = tmp_path / "cnn.safetensors"
    save_weights(foreign, network.state_dict(), {"arch": "cnnspot"})
    with pytest.raises(SpotfakeError, match="weights are for arch 'cnnspot', not 'npr'"):
        npr.NPR(path=str(foreign), device="cpu")


def _declaring(path: Path, elements: int) -> Path:
    """A safetensors file whose header declares one float32 tensor of ``elements`` values; the file is
    sparse, so it covers the declared bytes without using the disk."""
    import struct

    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [elements], "data_offsets": [0, 4 * elements]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(header)) + header)
        handle.truncate(8 + len(header) + 4 * elements)
    return path


@pytest.mark.parametrize("gigabytes", [160, 12])
def test_a_header_declaring_a_huge_layer_is_one_line_not_an_allocation(
    tmp_path: Path, gigabytes: int
) -> None:
    path = _declaring(tmp_path / "huge.safetensors", gigabytes * 10**9 // 4)
    with pytest.raises(SpotfakeError) as err:
        npr.NPR(path=str(path), device="cpu")
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    assert "refusing to load" in message or "not enough memory" in message


def test_univfd_refuses_a_pickled_clip_backbone_in_one_clean_line(tmp_path: Path, tiny_clip: Path) -> None:
    marker = tmp_path / "payload-ran"
    evil = tmp_path / "evil-clip"
    evil.mkdir()
    (evil / "config.json").write_text((tiny_clip / "config.json").read_text())
    torch.save({"vision_model.embeddings.class_embedding": _Payload(marker)}, evil / "pytorch_model.bin")
    head = tmp_path / "fc_weights.pth"
    torch.save({"weight": torch.zeros(1, 16), "bias": torch.zeros(1)}, head)
    with pytest.raises(SpotfakeError) as err:
        univfd.UnivFD(path=str(head), clip_path=str(evil), device="cpu")
    message = str(err.value)
    assert "pickled objects other than tensors" in message and "clip_path=" in message
    assert "weights_only=False" not in message and "\n" not in message
    assert not marker.exists()
