"""DIRE's full pipeline (``preprocessor=<ADM weights>``): a scaled-down ADM with the released checkpoint's
key names, saved as guided-diffusion's file is (a bare state dict), turns each image into the map that an
independent DDIM inversion + reconstruction written here gives; ``spotfake run`` scores those maps as the
authors' classifier scores them; bad ADM files and bad argument combinations are one line and exit 2.

The key names and shapes are pinned against guided-diffusion's own ``UNetModel`` (openai/guided-diffusion
at 22e0df8, identical in the DIRE fork at 1f89fff): the sha256 of its sorted ``key:shape`` lines and its
parameter count, measured once from their code for the tiny config below and for ``compute_dire.sh``'s
256x256 flags."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_experts_zoo_maps import reference, resnet_authors
from test_experts_zoo_maps import save as save_classifier
from zoo_reference import image_folder, run_error, run_scores, run_settings, sha256_of

from spotfake.adapters.experts.adm_unet import ADMUNet
from spotfake.adapters.experts.dire_reconstruction import ADM_DEFAULTS, build_mapper

TINY_ADM = {
    "image_size": 32,
    "num_channels": 32,
    "num_res_blocks": 1,
    "channel_mult": [1, 2],
    "attention_resolutions": [16],
    "num_head_channels": 16,
}
TINY_KEYS_SHA256 = "06fbba740f2d9ec95d462bdcc10ce0434553f852159471599fdd1f9301f8d27e"
TINY_PARAMETERS = 828_358
REAL_KEYS_SHA256 = "77426b1717ef703c9571d14dd0f89b54ce78ce1bc1eb0749c2ade3807bda89a5"
REAL_PARAMETERS = 552_814_086
REAL_TENSORS = 566


def keys_sha256(state: dict[str, torch.Tensor]) -> str:
    return hashlib.sha256(
        "\n".join(f"{k}:{tuple(v.shape)}" for k, v in sorted(state.items())).encode()
    ).hexdigest()


def tiny_adm(folder: Path, seed: int = 0, edit=None) -> Path:
    """A random tiny ADM saved as ``adm.pt`` (bare state dict, torch.save) with ``adm.json`` beside it."""
    torch.manual_seed(seed)
    net = ADMUNet({**ADM_DEFAULTS, **TINY_ADM})
    with torch.no_grad():
        for parameter in net.parameters():  # the released zero-initialised convs would make eps trivial
            parameter.normal_(0, 0.05)
    state = net.state_dict()
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(edit(state) if edit else state, folder / "adm.pt")
    (folder / "adm.json").write_text(json.dumps(TINY_ADM))
    return folder / "adm.pt"


def crop_reference(image: Image.Image, size: int) -> np.ndarray:
    """guided-diffusion's ``center_crop_arr``: BOX halvings, BICUBIC to shorter side ``size``, centre crop."""
    w, h = image.size
    while min(w, h) >= 2 * size:
        w, h = w // 2, h // 2
        image = image.resize((w, h), Image.Resampling.BOX)
    shorter = min(w, h)
    image = image.resize((round(w * size / shorter), round(h * size / shorter)), Image.Resampling.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return np.array(image.crop((left, top, left + size, top + size)))


def ddim_reference(
    net: torch.nn.Module, x: torch.Tensor, stride: int = 50, total: int = 1000
) -> torch.Tensor:
    """DDIM (eta 0) inversion then reconstruction over steps 0, stride, ...: x0 = (x - sqrt(1 - a) eps) /
    sqrt(a) clamped to [-1, 1], eps re-derived from it, x at the next/previous kept step."""
    betas = np.linspace(1e-4, 0.02, total)
    abar_all = np.cumprod(1 - betas)
    kept = list(range(0, total, stride))
    abar = [float(abar_all[t]) for t in kept]

    def step(x: torch.Tensor, i: int, a_to: float) -> torch.Tensor:
        a = abar[i]
        eps = net(x, torch.tensor([kept[i]]))[:, :3]
        x0 = ((x - (1 - a) ** 0.5 * eps) / a**0.5).clamp(-1, 1)
        eps = (x - a**0.5 * x0) / (1 - a) ** 0.5
        return a_to**0.5 * x0 + (1 - a_to) ** 0.5 * eps

    with torch.no_grad():
        for i in range(len(kept)):
            x = step(x, i, abar[i + 1] if i + 1 < len(kept) else 0.0)
        for i in reversed(range(len(kept))):
            x = step(x, i, abar[i - 1] if i else 1.0)
    return x


def test_the_map_is_the_ddim_reconstruction_error_of_the_authors_crop(tmp_path: Path) -> None:
    weights = tiny_adm(tmp_path)
    mapper = build_mapper(weights, "cpu")
    net = ADMUNet({**ADM_DEFAULTS, **TINY_ADM})
    net.load_state_dict(torch.load(weights, weights_only=True))
    net.eval()
    image = Image.fromarray(np.random.default_rng(3).integers(0, 256, (70, 90, 3), dtype=np.uint8))
    got = np.asarray(mapper(image))
    crop = crop_reference(image, 32)
    x = torch.from_numpy(crop.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None].contiguous()
    expected = (
        (torch.abs(x - ddim_reference(net, x)) * 127.5).clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0)
    )
    assert got.shape == (32, 32, 3) and got.dtype == np.uint8
    assert np.abs(got.astype(int) - expected.numpy().astype(int)).max() <= 1
    assert (got == expected.numpy()).mean() > 0.98 and got.std() > 5  # an informative map, not saturated
    assert mapper.settings["steps"] == 20 and mapper.settings["precision"] == "float32"
    assert mapper.settings["model"]["timestep_respacing"] == "ddim20"


def test_a_jpeg_sources_map_is_saved_as_the_authors_cv2_imwrite_saves_a_jpg(tmp_path: Path) -> None:
    """compute_dire.py writes each map under its source's name: a .jpg source's map goes through JPEG q95."""
    mapper = build_mapper(tiny_adm(tmp_path), "cpu")
    image = Image.fromarray(np.random.default_rng(4).integers(0, 256, (40, 40, 3), dtype=np.uint8))
    lossless = mapper(image, source_name="a.png")
    assert np.array_equal(np.asarray(lossless), np.asarray(mapper(image)))
    buffer = io.BytesIO()
    lossless.save(buffer, format="JPEG", quality=95)
    expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    for name in ("b.jpg", "C.JPEG"):
        got = np.asarray(mapper(image, source_name=name))
        assert np.array_equal(got, expected) and not np.array_equal(got, np.asarray(lossless))


def test_the_tiny_and_the_real_adm_have_guided_diffusions_keys_and_shapes() -> None:
    tiny = ADMUNet({**ADM_DEFAULTS, **TINY_ADM}).state_dict()
    assert keys_sha256(tiny) == TINY_KEYS_SHA256 and sum(v.numel() for v in tiny.values()) == TINY_PARAMETERS
    with torch.device("meta"):  # the real 256x256 shapes, no memory
        real = ADMUNet(dict(ADM_DEFAULTS)).state_dict()
    assert len(real) == REAL_TENSORS and sum(v.numel() for v in real.values()) == REAL_PARAMETERS
    assert keys_sha256(real) == REAL_KEYS_SHA256
    assert "input_blocks.0.0.weight" in real and "out.2.weight" in real and "time_embed.2.bias" in real


GUIDED_DIFFUSION_OUTPUT = {
    (0, 5, 7): [-0.04833, -0.092359, 0.045747, 0.065072, 0.000136, 0.068463],
    (1, 20, 3): [-0.003723, -0.063665, -0.007465, 0.075438, -0.037654, 0.088333],
}
"""guided-diffusion's own ``UNetModel`` (22e0df8, ``create_model`` with the tiny flags above, learn_sigma,
scale-shift norm, resblock_updown, legacy attention) on the weights and input of the test below: the six
output channels at two pixels, and the mean absolute output 0.045758; measured once from their code."""


def test_the_tiny_adm_computes_what_guided_diffusions_unet_computes() -> None:
    """Not only the keys: the forward (timestep embedding, scale-shift, resampling blocks, legacy
    attention) gives guided-diffusion's output for the same weights (drawn per key in sorted order)."""
    net = ADMUNet({**ADM_DEFAULTS, **TINY_ADM}).eval()
    gen = torch.Generator().manual_seed(0)
    net.load_state_dict(
        {k: torch.randn(v.shape, generator=gen) * 0.05 for k, v in sorted(net.state_dict().items())}
    )
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = net(x, torch.tensor([0, 950]))
    assert out.shape == (2, 6, 32, 32)
    for (n, row, col), expected in GUIDED_DIFFUSION_OUTPUT.items():
        assert out[n, :, row, col].tolist() == pytest.approx(expected, abs=2e-6)
    assert float(out.abs().mean()) == pytest.approx(0.045758, abs=2e-6)


def distinct_images(root: Path) -> dict[str, Image.Image]:
    """Three images whose maps differ clearly: noise (70 x 90), a flat grey (40 x 50), a smooth ramp (32 x 32)."""
    ramp = np.linspace(0, 255, 32, dtype=np.float32)
    made = {
        "1_fake/noise.png": np.random.default_rng(5).integers(0, 256, (70, 90, 3), dtype=np.uint8),
        "0_real/flat.png": np.full((40, 50, 3), 128, dtype=np.uint8),
        "0_real/ramp.png": np.stack([np.add.outer(ramp, ramp) / 2] * 3, axis=-1).astype(np.uint8),
    }
    images = {}
    for rel, pixels in made.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        images[rel] = Image.fromarray(pixels)
        images[rel].save(root / rel)
    return images


def test_the_float16_torso_holds_only_the_torso_convolutions_in_half() -> None:
    """``use_fp16`` on CUDA: the torsos' convolutions in float16 (``convert_to_fp16``), the timestep MLP, the
    residual blocks' embedding projections, the norms and ``out`` in float32; the output stays close."""
    torch.manual_seed(2)
    net = ADMUNet({**ADM_DEFAULTS, **TINY_ADM}).eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.normal_(0, 0.05)
        x, t = torch.randn(2, 3, 32, 32), torch.tensor([0, 950])
        full = net(x, t)
        net.half_torso()
        half = net(x, t)
    dtypes = {name: p.dtype for name, p in net.named_parameters()}
    assert dtypes["input_blocks.1.0.in_layers.2.weight"] == torch.float16
    assert dtypes["middle_block.1.qkv.weight"] == torch.float16
    assert dtypes["input_blocks.1.0.emb_layers.1.weight"] == torch.float32
    assert dtypes["middle_block.1.norm.weight"] == torch.float32 and dtypes["out.2.weight"] == torch.float32
    assert dtypes["time_embed.0.weight"] == torch.float32
    assert (
        half.dtype == torch.float32 and torch.allclose(half, full, atol=2e-3) and not torch.equal(half, full)
    )


def test_spotfake_run_scores_the_maps_the_pre_processor_makes(tmp_path: Path) -> None:
    net = resnet_authors(seed=11)
    with torch.no_grad():  # these maps are alike in statistics: a larger head keeps their scores apart
        net.fc.weight.mul_(10)
    classifier = save_classifier(tmp_path / "lsun_adm.pth", net.state_dict(), wrapped=True)
    adm = tiny_adm(tmp_path / "adm", seed=1)
    images = distinct_images(tmp_path / "data")
    scores = run_scores(tmp_path, "dire", f"path={classifier},preprocessor={adm}", tmp_path / "data")
    mapper = build_mapper(adm, "cpu")
    for rel, image in images.items():
        assert scores[rel] == pytest.approx(reference(net, mapper(image), dire=True), abs=1e-5)
    settings = run_settings(tmp_path)
    assert settings["sha256"] == {"lsun_adm.pth": sha256_of(classifier), "adm.pt": sha256_of(adm)}
    assert settings["input"] == "maps computed here (preprocessor=)"
    assert settings["preprocessor"]["steps"] == 20 and settings["preprocessor"]["model"]["image_size"] == 32


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda s: {k.replace("middle_block.1.qkv", "middle_block.1.to_qkv"): v for k, v in s.items()},
            "to_qkv",
        ),
        (lambda s: {**s, "out.2.weight": torch.zeros(3, 32, 3, 3)}, "out.2.weight"),
        (lambda s: {"model": s}, "top-level keys"),
    ],
    ids=["wrong-key", "wrong-shape", "wrapped"],
)
def test_a_wrong_adm_file_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    classifier = save_classifier(tmp_path / "lsun_adm.pth", resnet_authors(seed=5).state_dict(), wrapped=True)
    adm = tiny_adm(tmp_path / "adm", edit=edit)
    image_folder(tmp_path / "data", [(40, 40), (40, 40)])
    code, err = run_error("dire", f"path={classifier},preprocessor={adm}", tmp_path / "data", capsys)
    assert code == 2 and needle in err and "adm.pt" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"num_channels": 20}, "32 norm groups"),
        ({"noise_schedule": "cosine"}, "noise_schedule"),
        ({"timestep_respacing": "ddim999"}, "ddim999"),
        ({"image_size": "big"}, "adm.json"),
        ({"num_blocks": 1}, "unknown config keys"),
    ],
)
def test_a_bad_adm_config_is_one_line_and_exit_2(tmp_path: Path, capsys, override: dict, needle: str) -> None:
    classifier = save_classifier(tmp_path / "lsun_adm.pth", resnet_authors(seed=5).state_dict(), wrapped=True)
    adm = tiny_adm(tmp_path / "adm")
    adm.with_suffix(".json").write_text(json.dumps({**TINY_ADM, **override}))
    image_folder(tmp_path / "data", [(40, 40), (40, 40)])
    code, err = run_error("dire", f"path={classifier},preprocessor={adm}", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_a_pickled_adm_file_is_refused(tmp_path: Path, capsys) -> None:
    classifier = save_classifier(tmp_path / "lsun_adm.pth", resnet_authors(seed=5).state_dict(), wrapped=True)
    torch.save({"weights": Path("not a tensor")}, tmp_path / "adm.pt")
    image_folder(tmp_path / "data", [(40, 40), (40, 40)])
    code, err = run_error(
        "dire", f"path={classifier},preprocessor={tmp_path / 'adm.pt'}", tmp_path / "data", capsys
    )
    assert code == 2 and "refusing" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("which", ["both", "neither", "missing"])
def test_maps_or_preprocessor_exactly_one_and_an_existing_file(tmp_path: Path, capsys, which: str) -> None:
    classifier = save_classifier(tmp_path / "lsun_adm.pth", resnet_authors(seed=6).state_dict(), wrapped=True)
    adm = tiny_adm(tmp_path / "adm")
    (tmp_path / "maps").mkdir()
    extra = {
        "both": f",maps={tmp_path / 'maps'},preprocessor={adm}",
        "neither": "",
        "missing": f",preprocessor={tmp_path / 'nowhere.pt'}",
    }[which]
    image_folder(tmp_path / "data", [(40, 40), (40, 40)])
    code, err = run_error("dire", f"path={classifier}{extra}", tmp_path / "data", capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    if which == "missing":
        assert "nowhere.pt" in err and "256x256_diffusion_uncond.pt" in err
    else:
        assert "maps=" in err and "preprocessor=" in err and "compute_dire" in err


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SPOTFAKE_REAL_SIZE") != "1",
    reason="set SPOTFAKE_REAL_SIZE=1 (a 2.2 GB file; 634 s on two shared cores)",
)
def test_a_real_size_adm_file_loads_strictly_and_maps_an_image(tmp_path: Path) -> None:
    torch.manual_seed(0)
    state = ADMUNet(dict(ADM_DEFAULTS)).state_dict()
    assert keys_sha256(state) == REAL_KEYS_SHA256
    torch.save(state, tmp_path / "256x256_diffusion_uncond.pt")
    del state
    mapper = build_mapper(tmp_path / "256x256_diffusion_uncond.pt", "cpu")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    got = np.asarray(mapper(image))
    assert got.shape == (256, 256, 3) and got.dtype == np.uint8
    assert mapper.settings["steps"] == 20 and mapper.settings["model"]["num_channels"] == 256
