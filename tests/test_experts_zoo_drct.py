"""DRCT's two detectors load their authors' bare state dicts through ``spotfake run`` and score like the
authors' composition rebuilt here: timm ConvNeXt + ``fc``, and an OpenAI-layout CLIP ViT written out
functionally (the adapter runs it on transformers through an explicit key map)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from torch.nn import functional as F
from zoo_reference import (
    albumentations_pad_crop,
    image_folder,
    openai_clip_state,
    openai_encode_image,
    randn,
    run_error,
    run_scores,
    run_settings,
    sha256_of,
)

from spotfake.adapters.experts import drct, openai_clip_keys
from spotfake.adapters.experts.preprocess import Preprocess

# (231 - 224) = 7: albumentations crops from 3, transforms.CenterCrop from round(3.5) = 4
SIZES = [(230, 231), (200, 250), (224, 224), (300, 227)]
TINY_CONVNEXT = {"timm_kwargs": {"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]}, "embedding_size": 16}


def test_drct_crop_is_albumentations_not_torchvision() -> None:
    assert Preprocess(crop=("center", 224), pad="zero", crop_offset="floor", norm="imagenet") == drct.SPEC
    rng = np.random.default_rng(1)
    for size in ((200, 251), (150, 100), (225, 231)):  # padded on one or both sides first, then cropped
        small = Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        assert torch.allclose(drct.SPEC.build()(small), albumentations_pad_crop(small)[0], atol=1e-6)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 231, 3), dtype=np.uint8))
    ours = drct.SPEC.build()(image)
    assert torch.allclose(ours, albumentations_pad_crop(image)[0], atol=1e-6)
    torchvision_crop = torch.from_numpy(np.asarray(image)[38:262, 4:228].astype(np.float32))
    assert not torch.allclose(ours[0] * 0.229 + 0.485, torchvision_crop[..., 0] / 255, atol=1e-3)


# -- ConvNeXt-B ----------------------------------------------------------------------------------------


def convnext_authors(embedding: int = 16, seed: int = 0, **timm_kwargs: object) -> torch.nn.Module:
    """Their ``ContrastiveModels('convnext_base_in22k', embedding_size=...)``: timm ConvNeXt with
    ``head.fc`` -> embedding, then ``fc`` -> 2, with random layer scales so every block counts."""
    torch.manual_seed(seed)
    net = torch.nn.Module()
    net.model = timm.create_model("convnext_base", pretrained=False, num_classes=embedding, **timm_kwargs)
    net.fc = torch.nn.Linear(embedding, 2)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.endswith("gamma"):
                param.copy_(torch.rand_like(param))
    return net.eval()


def convnext_reference(net: torch.nn.Module, image: Image.Image) -> float:
    with torch.no_grad():
        logits = net.fc(net.model(albumentations_pad_crop(image)))
    return float(torch.softmax(logits, dim=1)[0, 1])


def save_convnext(folder: Path, state: dict[str, torch.Tensor]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "14_acc0.9996.pth"
    torch.save(state, path)  # bare: their train.py loads model.load_state_dict(torch.load(path))
    path.with_suffix(".json").write_text(json.dumps(TINY_CONVNEXT))
    return path


def test_drct_convnext_scores_as_the_authors_model_through_spotfake_run(tmp_path: Path) -> None:
    net = convnext_authors(**TINY_CONVNEXT["timm_kwargs"])  # type: ignore[arg-type]
    weights = save_convnext(tmp_path / "ckpt", net.state_dict())
    images = image_folder(tmp_path / "data", SIZES)
    scores = run_scores(tmp_path, "drct-convnext", f"path={weights},device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(convnext_reference(net, image), abs=1e-5)
    assert run_settings(tmp_path) == {
        "threshold": 0.5,
        "arch": "drct-convnext",
        "preprocess": {
            "resize": None,
            "crop": ["center", 224],
            "pad": "zero",
            "crop_offset": "floor",
            "norm": "imagenet",
            "interpolation": "bilinear",
        },
        "backbone": "convnext_base",
        "timm_kwargs": TINY_CONVNEXT["timm_kwargs"],
        "sha256": {"14_acc0.9996.pth": sha256_of(weights)},
    }


def test_drct_convnext_published_layout() -> None:
    with torch.device("meta"):
        network = drct.DRCTConvNeXtNet("convnext_base", 1024, {})
    shapes = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    assert len(shapes) == 346
    assert shapes["model.stem.0.weight"] == (128, 3, 4, 4)
    assert shapes["model.stages.2.blocks.26.gamma"] == (512,)
    assert shapes["model.stages.3.downsample.1.weight"] == (1024, 512, 2, 2)
    assert shapes["model.head.norm.weight"] == (1024,)
    assert shapes["model.head.fc.weight"] == (1024, 1024) and shapes["fc.weight"] == (2, 1024)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda s: {k.replace("model.head.fc.", "model.head.linear."): v for k, v in s.items()},
            "model.head.fc",
        ),
        (lambda s: {**s, "fc.weight": torch.zeros(2, 17)}, "fc.weight"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_drct_convnext_wrong_checkpoint_is_one_line_and_exit_2(
    tmp_path: Path, capsys, edit, needle: str
) -> None:
    net = convnext_authors(**TINY_CONVNEXT["timm_kwargs"])  # type: ignore[arg-type]
    weights = save_convnext(tmp_path / "ckpt", edit(net.state_dict()))
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("drct-convnext", f"path={weights},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def drct_clip_checkpoint(seed: int = 0, embedding: int = 16) -> dict[str, torch.Tensor]:
    """``ContrastiveModels('clip-ViT-L-14', embedding_size=...)``'s state dict, scaled down."""
    gen = torch.Generator().manual_seed(seed)
    state = {f"model.model.{k}": v for k, v in openai_clip_state(gen).items()}
    state |= {"model.fc.weight": randn(gen, embedding, 32, scale=0.1), "model.fc.bias": randn(gen, embedding)}
    return state | {"fc.weight": randn(gen, 2, embedding, scale=0.1), "fc.bias": randn(gen, 2)}


def clip_reference(state: dict[str, torch.Tensor], image: Image.Image) -> float:
    clip = {k[len("model.model.") :]: v for k, v in state.items() if k.startswith("model.model.")}
    with torch.no_grad():
        features = openai_encode_image(clip, albumentations_pad_crop(image))
        logits = F.linear(
            F.linear(features, state["model.fc.weight"], state["model.fc.bias"]),
            state["fc.weight"],
            state["fc.bias"],
        )
    return float(torch.softmax(logits, dim=1)[0, 1])


def test_drct_clip_scores_as_the_openai_layout_forward_through_spotfake_run(tmp_path: Path) -> None:
    state = drct_clip_checkpoint()
    weights = tmp_path / "13_acc0.9664.pth"
    torch.save(state, weights)
    images = image_folder(tmp_path / "data", SIZES[:3])
    scores = run_scores(tmp_path, "drct-clip", f"path={weights},device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(clip_reference(state, image), abs=1e-5)
    settings = run_settings(tmp_path)
    assert settings["clip"] == {
        "hidden_size": 128,
        "num_hidden_layers": 2,
        "patch_size": 32,
        "image_size": 224,
    }
    assert settings["preprocess"] == drct.SPEC.to_dict() and settings["preprocess"]["crop_offset"] == "floor"
    assert settings["sha256"] == {"13_acc0.9664.pth": sha256_of(weights)}


def test_the_key_map_covers_vit_l14_exactly() -> None:
    from transformers import CLIPVisionModelWithProjection

    state = {
        f"model.model.{k}": v
        for k, v in openai_clip_state(None, 1024, 24, 14, 16, 768, 768, 12, 49408, 77).items()
    }
    state |= {
        "model.fc.weight": torch.empty(1024, 768, device="meta"),
        "model.fc.bias": torch.empty(1024, device="meta"),
    }
    state |= {"fc.weight": torch.empty(2, 1024, device="meta"), "fc.bias": torch.empty(2, device="meta")}
    config, mapped = drct.clip_state(state, Path("13_acc0.9664.pth"))
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (1024, 24, 16)
    assert (config.intermediate_size, config.projection_dim, config.image_size) == (4096, 768, 224)
    with torch.device("meta"):
        network = drct.DRCTClipNet(CLIPVisionModelWithProjection(config), 768, 1024)
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in mapped.items()} == expected


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: {k.replace("ln_final", "ln_last"): v for k, v in s.items()}, "ln_final"),
        (
            lambda s: {k.replace("resblocks.1.mlp.c_fc", "resblocks.1.mlp.fc"): v for k, v in s.items()},
            "model.model.visual.transformer.resblocks.1.mlp.fc.weight",
        ),
        (lambda s: {**s, "model.fc.weight": torch.zeros(16, 33)}, "embed.weight"),
    ],
    ids=["wrong-text-key", "wrong-visual-key", "wrong-shape"],
)
def test_drct_clip_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    weights = tmp_path / "13_acc0.9664.pth"
    torch.save(edit(drct_clip_checkpoint()), weights)
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("drct-clip", f"path={weights},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_text_tower_names_are_checked_against_the_openai_layout() -> None:
    state = openai_clip_state(None)
    openai_clip_keys.check_text_tower(state, Path("x.pth"))
    with pytest.raises(Exception, match="text_projection"):
        openai_clip_keys.check_text_tower(
            {k: v for k, v in state.items() if k != "text_projection"}, Path("x.pth")
        )
