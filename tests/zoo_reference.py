"""Shared pieces of the expert-zoo tests: random state dicts in the authors' key layouts, functional
reference forwards written from the authors' code (never through the adapters' modules), tiny image
folders and a ``spotfake run`` wrapper that returns p(fake) per image."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures.experts import failed_run, run_expert
from PIL import Image
from torch.nn import functional as F


def image_folder(root: Path, sizes: Sequence[tuple[int, int]], seed: int = 0) -> dict[str, Image.Image]:
    """``root/0_real`` and ``root/1_fake`` with one random PNG per size, alternating; {relative path: image}."""
    rng = np.random.default_rng(seed)
    images = {}
    for index, (height, width) in enumerate(sizes):
        label = ("0_real", "1_fake")[index % 2]
        (root / label).mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        image.save(root / label / f"{index}.png")
        images[f"{label}/{index}.png"] = image
    return images


def run_scores(tmp_path: Path, model: str, model_args: str, data: Path) -> dict[str, float]:
    """:func:`fixtures.experts.run_expert` ({sample id (the image's path under ``data``): p(fake)}), checking
    that the scores are informative: random weights are scaled so that p(fake) stays off 0 and 1 and differs
    between images, so a comparison at 1e-5 checks the forward, not a saturated sigmoid."""
    scores = run_expert(tmp_path, model, model_args, data)
    assert all(0.02 < p < 0.98 for p in scores.values()), scores
    assert max(scores.values()) - min(scores.values()) > 1e-3, scores
    return scores


def run_settings(tmp_path: Path) -> dict:
    """The model settings recorded in the one results.json under ``tmp_path/runs``."""
    (results,) = (tmp_path / "runs").glob("*/*/results.json")
    return json.loads(results.read_text())["model"]["settings"]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_error(model: str, model_args: str, data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit code and stderr of a ``spotfake run`` expected to fail while loading the model."""
    return failed_run(data.parent, model, model_args, data, capsys)


# -- random weights in a layout ---------------------------------------------------------------------------


def randn(gen: torch.Generator, *shape: int, scale: float = 0.1) -> torch.Tensor:
    return torch.randn(shape, generator=gen) * scale


def batch_norm_state(gen: torch.Generator, prefix: str, channels: int) -> dict[str, torch.Tensor]:
    """A BatchNorm2d's five entries with non-trivial statistics."""
    return {
        f"{prefix}.weight": 1 + randn(gen, channels),
        f"{prefix}.bias": randn(gen, channels),
        f"{prefix}.running_mean": randn(gen, channels),
        f"{prefix}.running_var": 1 + torch.rand(channels, generator=gen),
        f"{prefix}.num_batches_tracked": torch.tensor(7),
    }


def bottleneck_stage_state(
    gen: torch.Generator, prefix: str, inplanes: int, planes: int, blocks: int, stride: int
) -> dict[str, torch.Tensor]:
    """The ``layerN.*`` entries of a ResNet bottleneck stage (``_make_layer``'s names and shapes)."""
    state: dict[str, torch.Tensor] = {}
    out = planes * 4
    for block in range(blocks):
        p = f"{prefix}.{block}"
        cin = inplanes if block == 0 else out
        state[f"{p}.conv1.weight"] = randn(gen, planes, cin, 1, 1, scale=0.3)
        state |= batch_norm_state(gen, f"{p}.bn1", planes)
        state[f"{p}.conv2.weight"] = randn(gen, planes, planes, 3, 3, scale=0.3)
        state |= batch_norm_state(gen, f"{p}.bn2", planes)
        state[f"{p}.conv3.weight"] = randn(gen, out, planes, 1, 1, scale=0.3)
        state |= batch_norm_state(gen, f"{p}.bn3", out)
        if block == 0 and (stride != 1 or inplanes != out):
            state[f"{p}.downsample.0.weight"] = randn(gen, out, inplanes, 1, 1, scale=0.3)
            state |= batch_norm_state(gen, f"{p}.downsample.1", out)
    return state


# -- functional forwards ----------------------------------------------------------------------------------


def bn(x: torch.Tensor, state: dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
    return F.batch_norm(
        x,
        state[f"{prefix}.running_mean"],
        state[f"{prefix}.running_var"],
        state[f"{prefix}.weight"],
        state[f"{prefix}.bias"],
        training=False,
        eps=1e-5,
    )


def bottleneck_stage_forward(
    x: torch.Tensor, state: dict[str, torch.Tensor], prefix: str, stride: int
) -> torch.Tensor:
    """Their ``Bottleneck.forward`` over every block of ``prefix`` (stride on the 3x3 of the first block)."""
    block = 0
    while f"{prefix}.{block}.conv1.weight" in state:
        p, s = f"{prefix}.{block}", stride if block == 0 else 1
        out = F.relu(bn(F.conv2d(x, state[f"{p}.conv1.weight"]), state, f"{p}.bn1"))
        out = F.relu(bn(F.conv2d(out, state[f"{p}.conv2.weight"], stride=s, padding=1), state, f"{p}.bn2"))
        out = bn(F.conv2d(out, state[f"{p}.conv3.weight"]), state, f"{p}.bn3")
        if f"{p}.downsample.0.weight" in state:
            x = bn(F.conv2d(x, state[f"{p}.downsample.0.weight"], stride=s), state, f"{p}.downsample.1")
        x = F.relu(out + x)
        block += 1
    return x


def albumentations_pad_crop(image: Image.Image, size: int = 224) -> torch.Tensor:
    """``PadIfNeeded(size, size, border_mode=BORDER_CONSTANT, value=0)`` + ``CenterCrop(size, size)`` +
    ``Normalize()`` (ImageNet) as albumentations 1.3 computes them, on an (H, W, 3) uint8 array."""
    array = np.asarray(image)
    rows, cols = array.shape[:2]
    top = int((size - rows) / 2.0) if rows < size else 0
    left = int((size - cols) / 2.0) if cols < size else 0
    array = np.pad(array, ((top, max(size - rows - top, 0)), (left, max(size - cols - left, 0)), (0, 0)))
    y1, x1 = (array.shape[0] - size) // 2, (array.shape[1] - size) // 2
    array = array[y1 : y1 + size, x1 : x1 + size].astype(np.float32)
    array = (array - np.array([0.485, 0.456, 0.406]) * 255) / (np.array([0.229, 0.224, 0.225]) * 255)
    return torch.from_numpy(array.astype(np.float32)).permute(2, 0, 1)[None]


def imagenet_tensor(image: Image.Image) -> torch.Tensor:
    """(1, 3, H, W): pixels / 255, ImageNet mean/std, computed with numpy."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    array = (array - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    return torch.from_numpy(array.astype(np.float32)).permute(2, 0, 1)[None]


# -- CLIP ViT-L/14 (OpenAI layout) ---------------------------------------------------------------------


def openai_clip_state(
    gen: torch.Generator | None,
    width: int = 128,  # two heads of 64 (heads = width // 64, as build_model)
    layers: int = 2,
    patch: int = 32,
    grid: int = 7,
    embed: int = 32,
    text_width: int = 32,
    text_layers: int = 1,
    vocab: int = 11,
    context: int = 5,
) -> dict[str, torch.Tensor]:
    """``clip.model.CLIP(...).state_dict()`` names and shapes (ViT image tower); random values, or empty
    tensors on the meta device when ``gen`` is None."""

    def t(*shape: int, scale: float = 0.2) -> torch.Tensor:
        return torch.empty(shape, device="meta") if gen is None else randn(gen, *shape, scale=scale)

    def block(prefix: str, w: int) -> dict[str, torch.Tensor]:
        return {
            f"{prefix}.attn.in_proj_weight": t(3 * w, w),
            f"{prefix}.attn.in_proj_bias": t(3 * w),
            f"{prefix}.attn.out_proj.weight": t(w, w),
            f"{prefix}.attn.out_proj.bias": t(w),
            f"{prefix}.ln_1.weight": 1 + t(w),
            f"{prefix}.ln_1.bias": t(w),
            f"{prefix}.mlp.c_fc.weight": t(4 * w, w),
            f"{prefix}.mlp.c_fc.bias": t(4 * w),
            f"{prefix}.mlp.c_proj.weight": t(w, 4 * w),
            f"{prefix}.mlp.c_proj.bias": t(w),
            f"{prefix}.ln_2.weight": 1 + t(w),
            f"{prefix}.ln_2.bias": t(w),
        }

    state = {
        "positional_embedding": t(context, text_width),
        "text_projection": t(text_width, embed),
        "logit_scale": t(),
        "visual.class_embedding": t(width),
        "visual.positional_embedding": t(grid * grid + 1, width),
        "visual.proj": t(width, embed),
        "visual.conv1.weight": t(width, 3, patch, patch, scale=0.05),
        "visual.ln_pre.weight": 1 + t(width),
        "visual.ln_pre.bias": t(width),
    }
    for i in range(layers):
        state |= block(f"visual.transformer.resblocks.{i}", width)
    state |= {"visual.ln_post.weight": 1 + t(width), "visual.ln_post.bias": t(width)}
    for i in range(text_layers):
        state |= block(f"transformer.resblocks.{i}", text_width)
    state |= {"token_embedding.weight": t(vocab, text_width), "ln_final.weight": 1 + t(text_width)}
    state |= {"ln_final.bias": t(text_width)}
    return state


def openai_encode_image(s: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``clip.model.VisionTransformer.forward`` written out: patches, class token, positions, ln_pre,
    pre-norm residual blocks (``nn.MultiheadAttention``, QuickGELU MLP), ln_post of the class token, @ proj."""
    width = s["visual.conv1.weight"].shape[0]
    x = F.conv2d(x, s["visual.conv1.weight"], stride=s["visual.conv1.weight"].shape[-1])
    x = x.flatten(2).permute(0, 2, 1)
    x = torch.cat([s["visual.class_embedding"].expand(x.shape[0], 1, -1), x], dim=1)
    x = F.layer_norm(
        x + s["visual.positional_embedding"], (width,), s["visual.ln_pre.weight"], s["visual.ln_pre.bias"]
    )
    x = x.permute(1, 0, 2)
    i = 0
    while f"visual.transformer.resblocks.{i}.ln_1.weight" in s:
        p = f"visual.transformer.resblocks.{i}."
        h = F.layer_norm(x, (width,), s[p + "ln_1.weight"], s[p + "ln_1.bias"])
        h, _ = F.multi_head_attention_forward(
            h, h, h, width, width // 64 or 1, s[p + "attn.in_proj_weight"], s[p + "attn.in_proj_bias"],
            None, None, False, 0.0, s[p + "attn.out_proj.weight"], s[p + "attn.out_proj.bias"],
            training=False, need_weights=False,
        )  # fmt: skip
        x = x + h
        h = F.linear(
            F.layer_norm(x, (width,), s[p + "ln_2.weight"], s[p + "ln_2.bias"]),
            s[p + "mlp.c_fc.weight"],
            s[p + "mlp.c_fc.bias"],
        )
        x = x + F.linear(h * torch.sigmoid(1.702 * h), s[p + "mlp.c_proj.weight"], s[p + "mlp.c_proj.bias"])
        i += 1
    cls = F.layer_norm(
        x.permute(1, 0, 2)[:, 0], (width,), s["visual.ln_post.weight"], s["visual.ln_post.bias"]
    )
    return cls @ s["visual.proj"]
