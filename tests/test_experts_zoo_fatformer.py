"""FatFormer loads a checkpoint in its authors' layout (``{"model": CLIPModel.state_dict(), ...}``, the
aliases ``image_encoder``/``text_encoder``/``logit_scale`` sharing the ``clip_model`` tensors) through
``spotfake run`` and scores like their ``CLIPModel.forward`` written out here: sequence-first, per image
as they loop, with PyWavelets' Haar transform for ``pytorch_wavelets``' DWT, in float64."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest
import pywt
import torch
from PIL import Image
from torch.nn import functional as F
from torchvision import transforms
from zoo_reference import (
    image_folder,
    openai_clip_state,
    randn,
    run_error,
    run_scores,
    run_settings,
    sha256_of,
)

from spotfake.adapters.experts import fatformer, fatformer_net
from spotfake.harness.errors import SpotfakeError

SIZES = [(230, 231), (300, 200), (256, 256), (97, 300)]
WIDTH, LAYERS, PATCH, GRID, TEXT, TEXT_LAYERS, VOCAB, CONTEXT = 64, 4, 28, 8, 64, 2, 50, 77
N_CTX, ADAPTER_BLOCKS, BOTTLENECK, ADAPTER_HEADS, GROUPS, ALIGN_HEADS = 8, (1, 3), 8, 4, 8, 4
TINY = {
    "image_size": PATCH * GRID,
    "patch_size": PATCH,
    "vision_width": WIDTH,
    "vision_layers": LAYERS,
    "vision_heads": 1,
    "embed_dim": TEXT,
    "text_width": TEXT,
    "text_layers": TEXT_LAYERS,
    "text_heads": 1,
    "vocab_size": VOCAB,
    "num_vit_adapter": len(ADAPTER_BLOCKS),
    "adapter_bottleneck": BOTTLENECK,
    "adapter_heads": ADAPTER_HEADS,
    "adapter_groups": GROUPS,
    "alignment_heads": ALIGN_HEADS,
}
HALF = 0.7071067690849304  # the float32 Haar tap pytorch_wavelets stores


def authors_transform(image: Image.Image) -> torch.Tensor:
    """``Dataset_Creator``'s "test" transform (``utils/dataset.py``)."""
    return transforms.Compose(
        [
            transforms.Resize((256, 256)),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ]
    )(image)


def mha_state(gen: torch.Generator, prefix: str, width: int) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}.in_proj_weight": randn(gen, 3 * width, width, scale=0.2),
        f"{prefix}.in_proj_bias": randn(gen, 3 * width),
        f"{prefix}.out_proj.weight": randn(gen, width, width, scale=0.2),
        f"{prefix}.out_proj.bias": randn(gen, width),
    }


def norm_state(gen: torch.Generator, prefix: str, width: int) -> dict[str, torch.Tensor]:
    return {f"{prefix}.weight": 1 + randn(gen, width), f"{prefix}.bias": randn(gen, width)}


def ffn_state(gen: torch.Generator, prefix: str, width: int) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}linear1.weight": randn(gen, 4 * width, width, scale=0.2),
        f"{prefix}linear1.bias": randn(gen, 4 * width),
        f"{prefix}linear2.weight": randn(gen, width, 4 * width, scale=0.1),
        f"{prefix}linear2.bias": randn(gen, width),
    }


def adapter_state(gen: torch.Generator, p: str) -> dict[str, torch.Tensor]:
    """``ForgeryAwareAdapterLayer(d_model=WIDTH, bottleneck=BOTTLENECK, head=ADAPTER_HEADS)`` with
    ``GroupNorm(GROUPS, WIDTH)``: its parameters and ``pytorch_wavelets``' eight filter buffers."""
    state = {
        f"{p}.freq_scale": torch.tensor([0.8]),
        f"{p}.first_conv_layer.weight": randn(gen, BOTTLENECK, WIDTH, 1, scale=0.3),
        f"{p}.first_conv_layer.bias": randn(gen, BOTTLENECK),
        f"{p}.second_conv_layer.weight": randn(gen, WIDTH, BOTTLENECK, 1, scale=0.3),
        f"{p}.second_conv_layer.bias": randn(gen, WIDTH),
    }
    lo, hi_rev = [HALF, HALF], [HALF, -HALF]  # prep_filt_afb1d reverses dec_hi = [-h, h]
    for kind, taps in (("h", (lo, hi_rev)), ("g", (lo, hi_rev))):  # rec_hi = [h, -h], not reversed
        module = "dwt_transform" if kind == "h" else "idwt_transform"
        for i, tap in enumerate(taps):
            state[f"{p}.{module}.{kind}{i}_col"] = torch.tensor(tap).reshape(1, 1, 2, 1)
            state[f"{p}.{module}.{kind}{i}_row"] = torch.tensor(tap).reshape(1, 1, 1, 2)
    state |= norm_state(gen, f"{p}.dwt_norm", WIDTH)
    state |= mha_state(gen, f"{p}.intra_band", WIDTH) | norm_state(gen, f"{p}.norm_intra", WIDTH)
    state |= mha_state(gen, f"{p}.inter_band", WIDTH) | norm_state(gen, f"{p}.norm_inter", WIDTH)
    return state | ffn_state(gen, f"{p}.", WIDTH) | norm_state(gen, f"{p}.norm3", WIDTH)


def fatformer_state(gen: torch.Generator) -> dict[str, torch.Tensor]:
    """``CLIPModel(...).state_dict()`` of their code: every key, the aliases as the same tensors."""
    clip = openai_clip_state(
        gen, width=WIDTH, layers=LAYERS, patch=PATCH, grid=GRID, embed=TEXT, text_width=TEXT,
        text_layers=TEXT_LAYERS, vocab=VOCAB, context=CONTEXT,
    )  # fmt: skip
    clip["logit_scale"] = torch.tensor(1.0)
    for block in ADAPTER_BLOCKS:
        clip |= adapter_state(gen, f"visual.transformer.resblocks.{block}.forgery_aware_adapter")
    state = {f"clip_model.{k}": v for k, v in clip.items()}
    lga = "language_guided_alignment."
    state |= {
        f"{lga}ctx": randn(gen, N_CTX, TEXT, scale=0.5),
        f"{lga}token_prefix": randn(gen, 2, 1, TEXT, scale=0.5),
        f"{lga}token_suffix": randn(gen, 2, CONTEXT - 1 - N_CTX, TEXT, scale=0.5),
    }
    state |= mha_state(gen, f"{lga}patch_basaed_enhancer", TEXT) | ffn_state(gen, lga, TEXT)
    state |= norm_state(gen, f"{lga}norm1", TEXT) | norm_state(gen, f"{lga}norm2", TEXT)
    state |= {f"image_encoder.{k[7:]}": v for k, v in clip.items() if k.startswith("visual.")}
    state |= {f"text_encoder.{k}": v for k, v in clip.items() if k.startswith("transformer.")}
    for name in ("positional_embedding", "ln_final.weight", "ln_final.bias", "text_projection"):
        state[f"text_encoder.{name}"] = clip[name]
    state["logit_scale"] = clip["logit_scale"]
    state |= mha_state(gen, "text_guided_interactor", TEXT) | ffn_state(gen, "", TEXT)
    return state | norm_state(gen, "norm1", TEXT) | norm_state(gen, "norm2", TEXT)


# -- their forward, written out (sequence-first tensors, as nn.MultiheadAttention takes them) -------------


def ln(x: torch.Tensor, s: dict, p: str) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1],), s[f"{p}.weight"], s[f"{p}.bias"], 1e-5)


def mha(q: torch.Tensor, kv: torch.Tensor, s: dict, p: str, heads: int, mask=None) -> torch.Tensor:
    return F.multi_head_attention_forward(
        q, kv, kv, q.shape[-1], heads, s[f"{p}.in_proj_weight"], s[f"{p}.in_proj_bias"], None, None,
        False, 0.0, s[f"{p}.out_proj.weight"], s[f"{p}.out_proj.bias"], training=False,
        need_weights=False, attn_mask=mask,
    )[0]  # fmt: skip


def ffn(x: torch.Tensor, s: dict, p: str, norm: str) -> torch.Tensor:
    h = F.linear(F.relu(F.linear(x, s[f"{p}linear1.weight"], s[f"{p}linear1.bias"])), *linear2(s, p))
    return ln(x + h, s, f"{p}{norm}")


def linear2(s: dict, p: str) -> tuple[torch.Tensor, torch.Tensor]:
    return s[f"{p}linear2.weight"], s[f"{p}linear2.bias"]


def adapter(x: torch.Tensor, s: dict, p: str) -> torch.Tensor:
    """``ForgeryAwareAdapterLayer.forward`` on (nq, bs, md), the DWT by PyWavelets (mode zero)."""
    nq, bs, md = x.shape
    g = int(np.sqrt(nq))
    patches = x[1:].transpose(0, 1).reshape(bs, g, g, md).permute(0, 3, 1, 2).numpy()
    low, (lh, hl, hh) = pywt.dwt2(patches, "haar", mode="zero", axes=(-2, -1))
    dwt = torch.from_numpy(np.stack([low, lh, hl, hh], axis=2))  # (bs, md, 4, g/2, g/2)
    h = dwt.shape[-1]
    dwt = F.group_norm(dwt.flatten(-2), GROUPS, s[f"{p}.dwt_norm.weight"], s[f"{p}.dwt_norm.bias"], 1e-5)
    f = dwt.permute(0, 2, 3, 1)  # (B, C=4, n, D)
    q = f.transpose(0, 1).flatten(1, 2)
    f = ln(f + mha(q, q, s, f"{p}.intra_band", ADAPTER_HEADS).reshape(4, bs, h * h, md).transpose(0, 1),
           s, f"{p}.norm_intra")  # fmt: skip
    q = f.flatten(0, 1).transpose(0, 1)
    inter = mha(q, q, s, f"{p}.inter_band", ADAPTER_HEADS).transpose(0, 1).reshape(bs, 4, h * h, md)
    f = ffn(ln(f + inter, s, f"{p}.norm_inter"), s, f"{p}.", "norm3")
    f = f.reshape(bs, 4, h, h, md).permute(0, 4, 1, 2, 3).numpy()
    grid = pywt.idwt2((f[:, :, 0], (f[:, :, 1], f[:, :, 2], f[:, :, 3])), "haar", mode="zero", axes=(-2, -1))
    freq = torch.from_numpy(grid).flatten(-2).permute(2, 0, 1)
    freq = torch.cat([torch.zeros_like(x[:1]), freq], dim=0)
    down = F.relu(
        F.conv1d(x.permute(1, 2, 0), s[f"{p}.first_conv_layer.weight"], s[f"{p}.first_conv_layer.bias"])
    )
    up = F.conv1d(down, s[f"{p}.second_conv_layer.weight"], s[f"{p}.second_conv_layer.bias"]).permute(2, 0, 1)
    return up * 0.1 + freq * s[f"{p}.freq_scale"]


def block(x: torch.Tensor, s: dict, p: str, heads: int, mask=None) -> torch.Tensor:
    x = x + mha(ln(x, s, f"{p}.ln_1"), ln(x, s, f"{p}.ln_1"), s, f"{p}.attn", heads, mask)
    h = F.linear(ln(x, s, f"{p}.ln_2"), s[f"{p}.mlp.c_fc.weight"], s[f"{p}.mlp.c_fc.bias"])
    mlp = F.linear(h * torch.sigmoid(1.702 * h), s[f"{p}.mlp.c_proj.weight"], s[f"{p}.mlp.c_proj.bias"])
    if f"{p}.forgery_aware_adapter.freq_scale" in s:
        return x + mlp + adapter(x, s, f"{p}.forgery_aware_adapter")
    return x + mlp


def reference(state: dict, image: Image.Image) -> float:
    """``CLIPModel.forward`` for one image, then ``softmax(dim=1)[:, 1]`` (their ``evaluate``)."""
    s = {k: v.double() for k, v in state.items()}
    c = "clip_model."
    x = F.conv2d(authors_transform(image)[None].double(), s[f"{c}visual.conv1.weight"], stride=PATCH)
    x = torch.cat([s[f"{c}visual.class_embedding"].expand(1, 1, -1), x.flatten(2).permute(0, 2, 1)], 1)
    x = ln(x + s[f"{c}visual.positional_embedding"], s, f"{c}visual.ln_pre").permute(1, 0, 2)
    for i in range(LAYERS):
        x = block(x, s, f"{c}visual.transformer.resblocks.{i}", 1)
    image_features = ln(x.permute(1, 0, 2), s, f"{c}visual.ln_post") @ s[f"{c}visual.proj"]  # (1, L, E)
    # language-guided alignment: the context attends to the image tokens
    lga = "language_guided_alignment."
    tgt = s[f"{lga}ctx"][:, None]
    mem = image_features.transpose(0, 1)
    tgt = ln(tgt + mha(tgt, mem, s, f"{lga}patch_basaed_enhancer", ALIGN_HEADS), s, f"{lga}norm1")
    ctx = ffn(tgt, s, lga, "norm2")[:, 0]
    prompts = torch.cat([s[f"{lga}token_prefix"], ctx.expand(2, -1, -1), s[f"{lga}token_suffix"]], dim=1)
    # text encoder: causal blocks, EOT at 1 + n_ctx + 2 ("real." and "fake." are two tokens each)
    mask = torch.full((CONTEXT, CONTEXT), float("-inf")).triu(1).double()
    t = (prompts + s[f"{c}positional_embedding"]).permute(1, 0, 2)
    for i in range(TEXT_LAYERS):
        t = block(t, s, f"{c}transformer.resblocks.{i}", 1, mask)
    text = ln(t.permute(1, 0, 2), s, f"{c}ln_final")[:, 1 + N_CTX + 2] @ s[f"{c}text_projection"]
    scale = s["logit_scale"].exp()
    unit = text / text.norm(dim=-1, keepdim=True)
    cls = image_features[0, 0] / image_features[0, 0].norm()
    logits = scale * cls @ unit.t()
    tgt = image_features[:, 1:].transpose(0, 1)
    tgt = ffn(ln(tgt + mha(tgt, text[:, None], s, "text_guided_interactor", ALIGN_HEADS), s, "norm1"), s, "",
              "norm2")  # fmt: skip
    aug = tgt.transpose(0, 1).mean(dim=1)[0]
    logits = logits + scale * (aug / aug.norm()) @ unit.t()
    return float(logits.softmax(dim=0)[1])


def write(tmp_path: Path, state: dict, config: dict | None = None) -> Path:
    """``{"model", "epoch", "args"}``, as a DETR-derived training script saves (their public code only
    loads ``["model"]``; what else the released file holds is not shown there)."""
    weights = tmp_path / "fatformer_4class.pth"
    args = argparse.Namespace(backbone="CLIP:ViT-L/14", num_vit_adapter=len(ADAPTER_BLOCKS))
    torch.save({"model": state, "epoch": 9, "args": args}, weights)
    weights.with_suffix(".json").write_text(json.dumps(TINY if config is None else config))
    return weights


def test_fatformer_scores_as_the_authors_forward_through_spotfake_run(tmp_path: Path) -> None:
    state = fatformer_state(torch.Generator().manual_seed(0))
    weights = write(tmp_path, state)
    images = image_folder(tmp_path / "data", SIZES)
    scores = run_scores(tmp_path, "fatformer", f"path={weights}", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(reference(state, image), abs=1e-5)
    settings = run_settings(tmp_path)
    assert settings["preprocess"] == {
        "resize": ["square", 256],
        "crop": ["center", 224],
        "norm": "imagenet",
        "interpolation": "bilinear",
        "pad": "zero",
        "backend": "pil",
    }
    assert settings["config"]["num_vit_adapter"] == 2 and settings["config"]["vision_width"] == WIDTH
    assert settings["sha256"] == {"fatformer_4class.pth": sha256_of(weights)}


def test_the_frequency_branch_counts(tmp_path: Path) -> None:
    """Without the wavelet branch (``freq_scale`` = 0, their initial value) the scores change."""
    state = fatformer_state(torch.Generator().manual_seed(0))
    image = next(iter(image_folder(tmp_path / "data", SIZES[:1]).values()))
    silent = dict(state)
    for key in [k for k in state if k.endswith("freq_scale")]:
        silent[key] = torch.zeros(1)
    assert abs(reference(state, image) - reference(silent, image)) > 1e-3


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda s: {k.replace("patch_basaed", "patch_based"): v for k, v in s.items()},
            "patch_basaed_enhancer",
        ),
        (lambda s: {**s, "language_guided_alignment.ctx": torch.zeros(N_CTX + 1, TEXT)}, "ctx"),
        (lambda s: {k: v for k, v in s.items() if not k.startswith("image_encoder.")}, "image_encoder"),
        (lambda s: {**s, "image_encoder.proj": torch.zeros(WIDTH, TEXT)}, "image_encoder.proj"),
    ],
    ids=["wrong-key", "wrong-shape", "no-aliases", "alias-differs"],
)
def test_fatformer_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle) -> None:
    weights = write(tmp_path, edit(fatformer_state(torch.Generator().manual_seed(0))))
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("fatformer", f"path={weights}", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_a_pickled_object_is_refused_and_a_missing_file_names_the_authors(tmp_path: Path, capsys) -> None:
    image_folder(tmp_path / "data", SIZES[:2])
    weights = tmp_path / "fatformer.pth"
    torch.save({"model": {}, "hook": Path("x")}, weights)
    code, err = run_error("fatformer", f"path={weights}", tmp_path / "data", capsys)
    assert code == 2 and "refusing to load" in err and len(err.strip().splitlines()) == 1
    code, err = run_error("fatformer", f"path={tmp_path / 'none.pth'}", tmp_path / "data", capsys)
    assert code == 2 and "Michel-liu/FatFormer" in err and len(err.strip().splitlines()) == 1


def test_the_haar_transforms_match_pywavelets() -> None:
    x = torch.randn(2, 5, 6, 10, dtype=torch.float64)
    bands = fatformer_net.HaarDWT().double()(x)
    low, (lh, hl, hh) = pywt.dwt2(x.numpy(), "haar", mode="zero", axes=(-2, -1))
    assert np.allclose(bands.numpy(), np.stack([low, lh, hl, hh], axis=2), atol=1e-6)
    y = torch.randn(2, 5, 4, 3, 5, dtype=torch.float64)
    want = pywt.idwt2(
        (y[:, :, 0].numpy(), tuple(y[:, :, i].numpy() for i in (1, 2, 3))), "haar", axes=(-2, -1)
    )
    assert np.allclose(fatformer_net.HaarIDWT().double()(y).numpy(), want, atol=1e-6)


def test_adapters_sit_where_their_vision_transformer_puts_them() -> None:
    assert fatformer.adapter_blocks(24, 3) == [7, 15, 23]
    assert fatformer.adapter_blocks(24, 8) == [2, 5, 8, 11, 14, 17, 20, 23]
    assert fatformer_net.eot_positions(8, 77).tolist() == [11, 11]


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """The published model's state-dict shapes, from OpenAI's ViT-L/14 layout and their modules."""
    clip = {k: tuple(v.shape) for k, v in openai_clip_state(
        None, width=1024, layers=24, patch=14, grid=16, embed=768, text_width=768, text_layers=12,
        vocab=49408, context=77,
    ).items()}  # fmt: skip
    for block_index in (7, 15, 23):
        p = f"visual.transformer.resblocks.{block_index}.forgery_aware_adapter"
        clip |= {k: tuple(v.shape) for k, v in adapter_state(torch.Generator(), p).items()}
        clip |= {k: tuple(v) for k, v in real_adapter_shapes(p).items()}
    shapes = {f"clip_model.{k}": v for k, v in clip.items()}
    shapes |= {f"image_encoder.{k[7:]}": v for k, v in clip.items() if k.startswith("visual.")}
    shapes |= {f"text_encoder.{k}": v for k, v in clip.items() if k.startswith("transformer.")}
    for name in ("positional_embedding", "ln_final.weight", "ln_final.bias", "text_projection"):
        shapes[f"text_encoder.{name}"] = clip[name]
    lga = "language_guided_alignment."
    shapes |= {f"{lga}ctx": (8, 768), f"{lga}token_prefix": (2, 1, 768), f"{lga}token_suffix": (2, 68, 768)}
    for prefix, attention in ((lga, "patch_basaed_enhancer"), ("", "text_guided_interactor")):
        shapes |= {
            f"{prefix}{attention}.in_proj_weight": (2304, 768),
            f"{prefix}{attention}.in_proj_bias": (2304,),
        }
        shapes |= {
            f"{prefix}{attention}.out_proj.weight": (768, 768),
            f"{prefix}{attention}.out_proj.bias": (768,),
        }
        shapes |= {f"{prefix}linear1.weight": (3072, 768), f"{prefix}linear1.bias": (3072,)}
        shapes |= {f"{prefix}linear2.weight": (768, 3072), f"{prefix}linear2.bias": (768,)}
        shapes |= {f"{prefix}norm{i}.{w}": (768,) for i in (1, 2) for w in ("weight", "bias")}
    return shapes | {"logit_scale": ()}


def real_adapter_shapes(p: str) -> dict[str, torch.Size]:
    """``ForgeryAwareAdapterLayer()`` defaults: d_model 1024, bottleneck 64, GroupNorm(128, 1024)."""
    out = {f"{p}.freq_scale": torch.Size([1])}
    out |= {
        f"{p}.first_conv_layer.weight": torch.Size([64, 1024, 1]),
        f"{p}.first_conv_layer.bias": torch.Size([64]),
    }
    out |= {
        f"{p}.second_conv_layer.weight": torch.Size([1024, 64, 1]),
        f"{p}.second_conv_layer.bias": torch.Size([1024]),
    }
    for name in ("intra_band", "inter_band"):
        out |= {
            f"{p}.{name}.in_proj_weight": torch.Size([3072, 1024]),
            f"{p}.{name}.in_proj_bias": torch.Size([3072]),
        }
        out |= {
            f"{p}.{name}.out_proj.weight": torch.Size([1024, 1024]),
            f"{p}.{name}.out_proj.bias": torch.Size([1024]),
        }
    for name in ("dwt_norm", "norm_intra", "norm_inter", "norm3"):
        out |= {f"{p}.{name}.weight": torch.Size([1024]), f"{p}.{name}.bias": torch.Size([1024])}
    out |= {f"{p}.linear1.weight": torch.Size([4096, 1024]), f"{p}.linear1.bias": torch.Size([4096])}
    return out | {f"{p}.linear2.weight": torch.Size([1024, 4096]), f"{p}.linear2.bias": torch.Size([1024])}


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SPOTFAKE_REAL_SIZE") != "1", reason="set SPOTFAKE_REAL_SIZE=1 (builds GBs)"
)
def test_the_published_architecture_has_their_keys_and_shapes() -> None:
    network = fatformer.build_network(dict(fatformer.DEFAULT_CONFIG)).eval()
    shapes = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    assert shapes == {k: tuple(v) for k, v in expected_shapes().items()}
    with torch.no_grad():
        out = network(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 2) and torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"num_vit_adapter": 3}, "num_vit_adapter=3 must divide the 4 image blocks"),
        ({"patch_size": 32}, "must be an even whole number"),
        ({"embed_dim": 32}, "embed_dim must equal text_width"),
        ({"vision_heads": 3}, "the architecture config does not build"),
    ],
    ids=["adapters-uneven", "odd-grid", "embed-width", "heads"],
)
def test_a_config_that_cannot_build_is_one_clear_error(change, needle) -> None:
    with pytest.raises(SpotfakeError, match=needle):
        fatformer.build_network({**fatformer.DEFAULT_CONFIG, **TINY, **change})
