"""DDA: a tiny DINOv2-with-LoRA checkpoint in the authors' layout (``{"model": {"base_model.model.*",
"base_model.fc.*"}}``, LoRA as ``original_layer`` + ``lora.lora_A``/``lora_B``) runs through `spotfake run`
and matches a DINOv2 forward written here (position embeddings resampled at run time as DINOv2 does)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from fixtures.experts import (
    assert_matches,
    failed_run,
    image_folder,
    reference_scores,
    results_settings,
    run_expert,
)
from torch.nn import functional as F
from torchvision import transforms

from spotfake.adapters.experts import dda

D, DEPTH, HEADS, PATCH, GRID, RANK = 32, 2, 4, 14, 5, 8
CLIP_NORM = transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


def _authors_state(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int, scale: float = 0.1) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * scale

    p = "base_model.model."
    state = {
        f"{p}cls_token": rand(1, 1, D),
        f"{p}pos_embed": rand(1, 1 + GRID * GRID, D),
        f"{p}mask_token": rand(1, D),
        f"{p}patch_embed.proj.weight": rand(D, 3, PATCH, PATCH, scale=0.02),
        f"{p}patch_embed.proj.bias": rand(D),
        f"{p}norm.weight": 1 + rand(D),
        f"{p}norm.bias": rand(D),
        "base_model.fc.weight": rand(1, D, scale=0.5),
        "base_model.fc.bias": rand(1),
    }
    for i in range(DEPTH):
        b = f"{p}blocks.{i}."
        for norm in ("norm1", "norm2"):
            state |= {f"{b}{norm}.weight": 1 + rand(D), f"{b}{norm}.bias": rand(D)}
        state |= {f"{b}ls1.gamma": rand(D, scale=0.5), f"{b}ls2.gamma": rand(D, scale=0.5)}
        for name, (out_dim, in_dim) in {
            "attn.qkv": (3 * D, D),
            "attn.proj": (D, D),
            "mlp.fc1": (4 * D, D),
            "mlp.fc2": (D, 4 * D),
        }.items():
            state |= {
                f"{b}{name}.original_layer.weight": rand(out_dim, in_dim, scale=in_dim**-0.5),
                f"{b}{name}.original_layer.bias": rand(out_dim),
                f"{b}{name}.lora.lora_A": rand(RANK, in_dim, scale=in_dim**-0.5),
                f"{b}{name}.lora.lora_B": rand(out_dim, RANK),  # trained: no longer zero
            }
    return state


def _dinov2_forward(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """DINOv2 ViT with DDA's LoRA, written out (the authors' model at a 336 input)."""
    s = {k.removeprefix("base_model.model."): v for k, v in state.items()}

    def linear(name: str, h: torch.Tensor) -> torch.Tensor:
        base = F.linear(h, s[f"{name}.original_layer.weight"], s[f"{name}.original_layer.bias"])
        return base + (h @ s[f"{name}.lora.lora_A"].T) @ s[f"{name}.lora.lora_B"].T * (1.0 / RANK)

    tokens = F.conv2d(x, s["patch_embed.proj.weight"], s["patch_embed.proj.bias"], stride=PATCH)
    grid = tokens.shape[-1]
    tokens = torch.cat((s["cls_token"].expand(len(x), -1, -1), tokens.flatten(2).transpose(1, 2)), dim=1)
    patches = s["pos_embed"][:, 1:].reshape(1, GRID, GRID, D).permute(0, 3, 1, 2)
    factor = (grid + 0.1) / GRID  # DINOv2's interpolate_offset
    patches = F.interpolate(patches, scale_factor=(factor, factor), mode="bicubic", antialias=False)
    h = tokens + torch.cat((s["pos_embed"][:, :1], patches.permute(0, 2, 3, 1).reshape(1, -1, D)), dim=1)
    for i in range(DEPTH):
        b = f"blocks.{i}."
        y = F.layer_norm(h, (D,), s[f"{b}norm1.weight"], s[f"{b}norm1.bias"], eps=1e-6)
        q, k, v = linear(f"{b}attn.qkv", y).reshape(len(x), -1, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // HEADS), dim=-1) @ v
        h = h + s[f"{b}ls1.gamma"] * linear(f"{b}attn.proj", attn.transpose(1, 2).reshape(len(x), -1, D))
        y = F.layer_norm(h, (D,), s[f"{b}norm2.weight"], s[f"{b}norm2.bias"], eps=1e-6)
        h = h + s[f"{b}ls2.gamma"] * linear(f"{b}mlp.fc2", F.gelu(linear(f"{b}mlp.fc1", y)))
    cls = F.layer_norm(h, (D,), s["norm.weight"], s["norm.bias"], eps=1e-6)[:, 0]
    return F.linear(cls, state["base_model.fc.weight"], state["base_model.fc.bias"])


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "dinov2_tiny.json"
    path.write_text(json.dumps({"embed_dim": D, "depth": DEPTH, "num_heads": HEADS, "patch_size": PATCH}))
    return path


def test_dda_checkpoint_loads_strictly_and_matches_the_dinov2_lora_forward(tmp_path: Path) -> None:
    state = _authors_state()
    torch.save({"model": state}, tmp_path / "ckpt.pth")  # inference.py: checkpoint['model']
    data = tmp_path / "images"
    paths = image_folder(data, sizes=((340, 350), (300, 400), (340, 350)))  # 300 < 336: zero-padded
    scores = run_expert(tmp_path, "dda", f"path={tmp_path / 'ckpt.pth'},config={_config(tmp_path)}", data)
    transform = transforms.Compose([transforms.CenterCrop(336), transforms.ToTensor(), CLIP_NORM])
    assert_matches(
        scores, reference_scores(data, paths, transform, lambda x: _dinov2_forward(state, x)), atol=1e-4
    )
    settings = results_settings(tmp_path, "dda")
    assert (
        settings["preprocess"]
        == dda.SPEC.to_dict()
        == {
            "resize": None,
            "crop": ["center", 336],
            "norm": "clip",
            "interpolation": "bilinear",
            "pad": "zero",
        }
    )
    assert settings["lora"] == {"rank": 8, "alpha": 1.0}


def test_wrong_keys_and_shapes_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "images"
    image_folder(data, sizes=((16, 16),))
    state = _authors_state()
    config = _config(tmp_path)
    del state["base_model.model.blocks.1.mlp.fc2.lora.lora_B"]
    torch.save({"model": state}, tmp_path / "keys.pth")
    code, err = failed_run(tmp_path, "dda", f"path={tmp_path / 'keys.pth'},config={config}", data, capsys)
    assert code == 2 and "1 missing ['vit.blocks.1.mlp.fc2.lora_B.default.weight']" in err
    assert len(err.strip().splitlines()) == 1
    state = _authors_state()
    state["base_model.model.blocks.0.attn.qkv.lora.lora_A"] = torch.zeros(16, D)  # rank 16, not 8
    torch.save({"model": state}, tmp_path / "shape.pth")
    code, err = failed_run(tmp_path, "dda", f"path={tmp_path / 'shape.pth'},config={config}", data, capsys)
    assert code == 2 and "has shape (16, 32)" in err and len(err.strip().splitlines()) == 1
