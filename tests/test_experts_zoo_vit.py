"""Community Forensics and B-Free load their authors' checkpoints (a Hugging Face mixin folder or a
training checkpoint; a GRIP-style folder) through ``spotfake run`` and score like the authors' models
rebuilt here on timm, with the preprocessing (shorter-side resize + centre crop; five windows of the patch
embedding, tiled when small) written out independently."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import yaml
from PIL import Image
from zoo_reference import image_folder, imagenet_tensor, run_error, run_scores, run_settings, sha256_of

from spotfake.adapters.experts import bfree, commfor


def randomize(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random layer scales and head, so that every block and the head count in the score."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("gamma"):
                param.copy_(torch.rand(param.shape, generator=gen))
            elif name.startswith(("head.", "vit.head.")):  # no bias: keep p(fake) off 0 and 1
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1 if name.endswith("weight") else 0)
    return model.eval()


# -- Community Forensics -------------------------------------------------------------------------------

TINY_VIT = {"embed_dim": 32, "depth": 2, "num_heads": 2}
COMMFOR_SIZES = [(300, 260), (256, 400), (240, 240)]


def commfor_authors(seed: int = 0) -> torch.nn.Module:
    """``ViTClassifier(model_size="small", input_size=224)``, scaled down: timm ViT as ``vit``, head -> 1."""
    torch.manual_seed(seed)
    net = torch.nn.Module()
    net.vit = timm.create_model("vit_small_patch16_224", pretrained=False, num_classes=1, **TINY_VIT)
    return randomize(net, seed)


def commfor_reference(net: torch.nn.Module, image: Image.Image, resize: int = 256, crop: int = 224) -> float:
    """``Resize(256)`` (shorter side: the longer becomes ``int(256 * long / short)``, PIL bilinear),
    ``CenterCrop(224)`` at ``round((n - 224) / 2)``, ImageNet mean/std, ``sigmoid(vit(x))``."""
    width, height = image.size
    if height <= width:
        image = image.resize((int(resize * width / height), resize), Image.BILINEAR)
    else:
        image = image.resize((resize, int(resize * height / width)), Image.BILINEAR)
    top, left = int(round((image.height - crop) / 2.0)), int(round((image.width - crop) / 2.0))
    image = image.crop((left, top, left + crop, top + crop))
    with torch.no_grad():
        return float(torch.sigmoid(net.vit(imagenet_tensor(image)))[0, 0])


def hub_folder(root: Path, net: torch.nn.Module) -> Path:
    """What ``PyTorchModelHubMixin.save_pretrained`` writes: model.safetensors and config.json."""
    from safetensors.torch import save_file

    root.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(root / "model.safetensors"))
    config = {
        "model_size": "small",
        "input_size": 224,
        "patch_size": 16,
        "freeze_backbone": False,
        "device": "cuda",
    }
    (root / "config.json").write_text(json.dumps(config))
    (root / "model.json").write_text(json.dumps({"timm_kwargs": TINY_VIT}))  # the scaled-down architecture
    return root


def test_commfor_hub_folder_scores_as_the_authors_model_through_spotfake_run(tmp_path: Path) -> None:
    net = commfor_authors()
    folder = hub_folder(tmp_path / "commfor-model-224", net)
    images = image_folder(tmp_path / "data", COMMFOR_SIZES)
    scores = run_scores(tmp_path, "commfor", f"path={folder},device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(commfor_reference(net, image), abs=1e-5)
    assert run_settings(tmp_path) == {
        "threshold": 0.5,
        "arch": "commfor",
        "preprocess": {
            "resize": ["shorter", 256],
            "crop": ["center", 224],
            "pad": "zero",
            "backend": "pil",
            "norm": "imagenet",
            "interpolation": "bilinear",
        },
        "model_size": "small",
        "patch_size": 16,
        "input_size": 224,
        "timm_kwargs": TINY_VIT,
        "sha256": {"model.safetensors": sha256_of(folder / "model.safetensors")},
    }


def test_commfor_training_checkpoint_with_compile_prefix(tmp_path: Path) -> None:
    net = commfor_authors(seed=1)
    path = tmp_path / "checkpoint_3.pt"
    state = {f"_orig_mod.{k}": v for k, v in net.state_dict().items()}
    torch.save(
        {"model": state, "optimizer": {"state": {}, "param_groups": []}, "scheduler": {"last_epoch": 3}}
        | {"scaler": {}, "epoch": 3, "itr": 1200},
        path,
    )
    path.with_suffix(".json").write_text(json.dumps({"timm_kwargs": TINY_VIT}))
    images = image_folder(tmp_path / "data", COMMFOR_SIZES[:2])
    scores = run_scores(tmp_path, "commfor", f"path={path},input_size=224,device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(commfor_reference(net, image), abs=1e-5)


def test_commfor_published_layout_is_timm_vit_small_384() -> None:
    with torch.device("meta"):
        network = commfor.CommForNet(dict(commfor.DEFAULT_CONFIG))
    shapes = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    assert len(shapes) == 152 and all(k.startswith("vit.") for k in shapes)
    assert shapes["vit.pos_embed"] == (1, 577, 384) and shapes["vit.patch_embed.proj.weight"] == (
        384,
        3,
        16,
        16,
    )
    assert shapes["vit.blocks.11.attn.qkv.weight"] == (1152, 384) and shapes["vit.head.weight"] == (1, 384)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: {k.replace("vit.norm.", "vit.fc_norm."): v for k, v in s.items()}, "vit.norm"),
        (lambda s: {**s, "vit.head.weight": torch.zeros(1, 33)}, "vit.head.weight"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_commfor_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    path = tmp_path / "checkpoint_3.pt"
    torch.save({"model": edit(commfor_authors().state_dict())}, path)
    path.with_suffix(".json").write_text(json.dumps({"timm_kwargs": TINY_VIT}))
    image_folder(tmp_path / "data", COMMFOR_SIZES[:2])
    code, err = run_error("commfor", f"path={path},input_size=224,device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


# -- B-Free --------------------------------------------------------------------------------------------

BFREE_ARCH = "timm_c5i504_vit_base_patch14_reg4_dinov2"
TINY_REG = {"embed_dim": 32, "depth": 1, "num_heads": 2}
# grids (in 14-pixel patches): 42x37 (five distinct windows), 21x50 (tiled rows, columns cut to 36),
# 14x14 (tiled both ways), twice 37x37 (one batch of two)
BFREE_SIZES = [(600, 530), (300, 700), (200, 200), (520, 518), (520, 518)]


def bfree_authors(seed: int = 0) -> torch.nn.Module:
    """``timm.create_model("vit_base_patch14_reg4_dinov2", num_classes=1)`` at 504 input, scaled down."""
    torch.manual_seed(seed)
    vit = timm.create_model(
        "vit_base_patch14_reg4_dinov2", pretrained=False, num_classes=1, img_size=504, **TINY_REG
    )
    return randomize(vit, seed)


def bfree_folder(root: Path, state: dict[str, torch.Tensor], norm_type: str = "resnet") -> Path:
    root.mkdir(parents=True)
    config = {"model_name": "BFREE_dino2reg4", "arch": BFREE_ARCH, "norm_type": norm_type}
    (root / "config.yaml").write_text(yaml.safe_dump(config | {"weights_file": "model_epoch_best.pth"}))
    torch.save({"model": state}, root / "model_epoch_best.pth")  # their load_weights reads dat["model"]
    (root / "model_epoch_best.json").write_text(json.dumps({"timm_kwargs": TINY_REG}))
    return root


def bfree_reference(vit: torch.nn.Module, image: Image.Image) -> float:
    """``Wrapper5crops.forward``: patch-embed the whole image; a grid under 36 in either direction is tiled
    (``np.tile``) and cut to 36 x 36; five windows; ``vit`` without its patch embedding; mean logit."""
    x = imagenet_tensor(image)
    with torch.no_grad():
        grid = vit.patch_embed.proj(x).numpy()
        n = 36
        if grid.shape[2] < n or grid.shape[3] < n:
            reps = (1, 1, math.ceil(n / grid.shape[2]), math.ceil(n / grid.shape[3]))
            grid = np.tile(grid, reps)[:, :, :n, :n]
        h, w = grid.shape[2:]
        hs, ws = max((h - n) // 2, 0), max((w - n) // 2, 0)
        corners = [(hs, ws), (0, 0), (h - n, 0), (h - n, w - n), (0, w - n)]
        logits = []
        for top, left in corners:
            window = torch.from_numpy(np.ascontiguousarray(grid[:, :, top : top + n, left : left + n]))
            tokens = window.flatten(2).transpose(1, 2)
            x = vit._pos_embed(tokens)
            x = vit.norm(vit.blocks(vit.norm_pre(x)))
            logits.append(vit.forward_head(x))
    return float(torch.sigmoid(torch.stack(logits).mean()))


def test_bfree_scores_as_the_authors_wrapper_through_spotfake_run(tmp_path: Path) -> None:
    vit = bfree_authors()
    folder = bfree_folder(tmp_path / "BFREE_dino2reg4", vit.state_dict())
    images = image_folder(tmp_path / "data", BFREE_SIZES)
    scores = run_scores(tmp_path, "bfree", f"path={folder},device=cpu,batch_size=8", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(bfree_reference(vit, image), abs=1e-5)
    assert run_settings(tmp_path) == {
        "threshold": 0.5,
        "arch": "bfree",
        "preprocess": {
            "resize": None,
            "crop": ["five", 504],
            "norm": "imagenet",
            "interpolation": "bilinear",
        },
        "model_name": "BFREE_dino2reg4",
        "timm_arch": BFREE_ARCH,
        "timm_kwargs": TINY_REG,
        "sha256": {"model_epoch_best.pth": sha256_of(folder / "model_epoch_best.pth")},
    }


def test_bfree_windows_tile_then_cut_both_axes() -> None:
    grid = torch.arange(2 * 3 * 5).float().reshape(1, 2, 3, 5)  # 3 x 5, windows of 4 x 4
    windows = bfree.five_windows(grid, (4, 4))
    tiled = torch.cat([grid, grid], dim=2)[..., :4, :4]  # rows tiled twice, columns cut to 4
    assert windows.shape == (5, 2, 4, 4)
    assert all(torch.equal(w, tiled[0]) for w in windows)
    big = torch.arange(6 * 7).float().reshape(1, 1, 6, 7)
    centre, top_left, bottom_left, bottom_right, top_right = bfree.five_windows(big, (4, 4))
    assert torch.equal(centre[0], big[0, 0, 1:5, 1:5]) and torch.equal(bottom_right[0], big[0, 0, 2:, 3:])
    assert torch.equal(top_right[0], big[0, 0, :4, 3:]) and torch.equal(bottom_left[0], big[0, 0, 2:, :4])


def test_bfree_published_layout_is_timm_dinov2_reg4_at_504() -> None:
    with torch.device("meta"):
        vit = timm.create_model("vit_base_patch14_reg4_dinov2", pretrained=False, num_classes=1, img_size=504)
        wrapped = bfree.FiveCropViT(vit)
    assert wrapped.grid == (36, 36)
    shapes = {k: tuple(v.shape) for k, v in vit.state_dict().items()}
    assert shapes["pos_embed"] == (1, 1296, 768)
    assert shapes["reg_token"] == (1, 4, 768) and shapes["blocks.11.ls2.gamma"] == (768,)
    assert shapes["head.weight"] == (1, 768)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: {k: v for k, v in s.items() if k != "reg_token"}, "reg_token"),
        (lambda s: {**s, "pos_embed": torch.zeros(1, 1369, 32)}, "pos_embed"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_bfree_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    folder = bfree_folder(tmp_path / "BFREE_dino2reg4", edit(bfree_authors().state_dict()))
    image_folder(tmp_path / "data", BFREE_SIZES[:2])
    code, err = run_error("bfree", f"path={folder},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
