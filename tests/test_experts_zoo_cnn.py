"""SAFE and FreqNet load their authors' checkpoint layouts through ``spotfake run`` and score like
functional forwards written here from the authors' code; the DWT matches PyWavelets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import pywt  # the independent DWT (a dev dependency)
import torch
from PIL import Image
from torch.nn import functional as F
from zoo_reference import (
    batch_norm_state,
    bn,
    bottleneck_stage_forward,
    bottleneck_stage_state,
    image_folder,
    imagenet_tensor,
    randn,
    run_error,
    run_scores,
    run_settings,
    sha256_of,
)

from spotfake.adapters.experts import freqnet, safe

SIZES = [(300, 280), (200, 240), (256, 256), (261, 259)]


# -- SAFE ----------------------------------------------------------------------------------------------


def safe_state(width: int = 8, layers: tuple[int, int] = (1, 1), seed: int = 0) -> dict[str, torch.Tensor]:
    """``resnet50(num_classes=2)`` of SAFE's ``models/resnet.py``: stem, layer1, layer2, fc1 (2 logits)."""
    gen = torch.Generator().manual_seed(seed)
    state = {"conv1.weight": randn(gen, width, 3, 3, 3, scale=0.5)}
    state |= batch_norm_state(gen, "bn1", width)
    state |= bottleneck_stage_state(gen, "layer1", width, width, layers[0], 1)
    state |= bottleneck_stage_state(gen, "layer2", 4 * width, 2 * width, layers[1], 2)
    state |= {"fc1.weight": randn(gen, 2, 8 * width, scale=0.1), "fc1.bias": randn(gen, 2)}
    return state


def save_safe(folder: Path, state: dict[str, torch.Tensor], config: dict | None = None) -> Path:
    """As their ``utils.save_model``: the state dict under "model" beside the optimizer, epoch, scaler and args."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "checkpoint-best.pth"
    args = argparse.Namespace(
        model="SAFE", input_size=256, transform_mode="crop", lr=1e-4, resume="", eval=False
    )
    torch.save(
        {
            "model": state,
            "optimizer": {"state": {}, "param_groups": []},
            "epoch": "best",
            "scaler": {},
            "args": args,
        },
        path,
    )
    if config is not None:
        (folder / "checkpoint-best.json").write_text(json.dumps(config))
    return path


def torchvision_center_crop(array: np.ndarray, size: int) -> np.ndarray:
    """``transforms.CenterCrop(size)`` on an (H, W, 3) array: zero-pad to at least ``size`` (the smaller
    half before), then crop at ``int(round((n - size) / 2))``."""
    height, width = array.shape[:2]
    pad_h, pad_w = max(size - height, 0), max(size - width, 0)
    array = np.pad(array, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    top = int(round((array.shape[0] - size) / 2.0))
    left = int(round((array.shape[1] - size) / 2.0))
    return array[top : top + size, left : left + size]


def safe_reference(state: dict[str, torch.Tensor], image: Image.Image, crop: int | None = 256) -> float:
    array = np.asarray(image, dtype=np.float32) / 255.0
    if crop:
        array = torchvision_center_crop(array, crop)
    x = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)[None]

    _, (_, _, hh) = pywt.dwt2(x.double().numpy(), "bior1.3", mode="symmetric", axes=(-2, -1))
    x = F.interpolate(torch.from_numpy(hh).float(), size=x.shape[-2:], mode="bilinear", align_corners=False)
    x = F.max_pool2d(
        F.relu(bn(F.conv2d(x, state["conv1.weight"], stride=2, padding=1), state, "bn1")), 3, 2, 1
    )
    x = bottleneck_stage_forward(bottleneck_stage_forward(x, state, "layer1", 1), state, "layer2", 2)
    logits = F.linear(x.mean(dim=(-2, -1)), state["fc1.weight"], state["fc1.bias"])
    return float(torch.softmax(logits, dim=1)[0, 1])


@pytest.mark.parametrize("shape", [(2, 3, 256, 256), (1, 3, 31, 46), (1, 1, 5, 3), (1, 2, 2, 7)])
def test_hh_band_is_pywavelets_dwt2_diagonal_detail(shape: tuple[int, ...]) -> None:

    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    _, (_, _, expected) = pywt.dwt2(x.numpy(), "bior1.3", mode="symmetric", axes=(-2, -1))
    assert tuple(safe.BIOR13_DEC_HI) == pytest.approx(pywt.Wavelet("bior1.3").dec_hi, abs=1e-15)
    got = safe.HHBand()(x)
    assert got.shape == expected.shape
    assert np.abs(got.numpy() - expected).max() < 1e-12


def test_safe_scores_as_the_authors_forward_through_spotfake_run(tmp_path: Path) -> None:
    state = safe_state()
    weights = save_safe(tmp_path / "ckpt", state, {"layers": [1, 1], "width": 8})
    images = image_folder(tmp_path / "data", SIZES)
    scores = run_scores(tmp_path, "safe", f"path={weights},device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(safe_reference(state, image), abs=1e-5)
    assert run_settings(tmp_path) == {
        "threshold": 0.5,
        "arch": "safe",
        "preprocess": {
            "resize": None,
            "crop": ["center", 256],
            "pad": "zero",
            "norm": "none",
            "interpolation": "bilinear",
        },
        "layers": [1, 1],
        "width": 8,
        "sha256": {"checkpoint-best.pth": sha256_of(weights)},
    }


def test_safe_whole_image_mode(tmp_path: Path) -> None:
    state = safe_state(seed=3)
    weights = save_safe(tmp_path / "ckpt", state, {"layers": [1, 1], "width": 8})
    images = image_folder(tmp_path / "data", [(40, 52), (33, 35)])
    scores = run_scores(tmp_path, "safe", f"path={weights},device=cpu,crop=none", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(safe_reference(state, image, crop=None), abs=1e-5)


def test_safe_published_architecture_layout() -> None:
    with torch.device("meta"):
        network = safe.build_network(dict(safe.DEFAULT_CONFIG))
    got = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    expected = {k: tuple(v.shape) for k, v in safe_state(width=64, layers=(3, 4)).items()}
    assert got == expected
    assert got["fc1.weight"] == (2, 512) and got["conv1.weight"] == (64, 3, 3, 3)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: {("fc.weight" if k == "fc1.weight" else k): v for k, v in s.items()}, "fc.weight"),
        (lambda s: {**s, "fc1.weight": torch.zeros(2, 65)}, "fc1.weight"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_safe_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    weights = save_safe(tmp_path / "ckpt", edit(safe_state()), {"layers": [1, 1], "width": 8})
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("safe", f"path={weights},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


# -- FreqNet -------------------------------------------------------------------------------------------


def freqnet_state(width: int = 8, layers: tuple[int, int] = (1, 1), seed: int = 0) -> dict[str, torch.Tensor]:
    """The names and shapes of ``FreqNet(Bottleneck, [3, 4])`` in AIGIBench's ``networks/freqnet.py``."""
    gen = torch.Generator().manual_seed(seed)
    wide = 4 * width
    state: dict[str, torch.Tensor] = {}
    for index, (cin, cout) in enumerate(((3, width), (width, width), (wide, wide), (wide, wide)), 1):
        state[f"weight{index}"] = randn(gen, cout, cin, 1, 1, scale=0.5)
        state[f"bias{index}"] = randn(gen, cout)
        state[f"realconv{index}.weight"] = randn(gen, cout, cout, 1, 1, scale=0.5)
        state[f"imagconv{index}.weight"] = randn(gen, cout, cout, 1, 1, scale=0.5)
    state |= bottleneck_stage_state(gen, "layer1", width, width, layers[0], 1)
    state |= bottleneck_stage_state(gen, "layer2", wide, 2 * width, layers[1], 2)
    state |= {"fc1.weight": randn(gen, 1, 8 * width, scale=1.0), "fc1.bias": randn(gen, 1)}
    return state


def _hfreq(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """Their hfreqWH (dims -2, -1) / hfreqC (dim 1), scale 4: zero the centred low band, back, ReLU."""
    x = torch.fft.fftshift(torch.fft.fftn(x, dim=dims, norm="ortho"), dim=dims)
    index: list[slice] = [slice(None)] * x.ndim
    for d in dims:
        n = x.shape[d]
        index[d] = slice(n // 2 - n // 4, n // 2 + n // 4)
    x[tuple(index)] = 0
    return torch.relu(torch.fft.ifftn(torch.fft.ifftshift(x, dim=dims), dim=dims, norm="ortho").real)


def _fcl(x: torch.Tensor, state: dict[str, torch.Tensor], i: int) -> torch.Tensor:
    x = torch.fft.fftshift(torch.fft.fft2(x, norm="ortho"), dim=[-2, -1])
    x = torch.complex(
        F.conv2d(x.real, state[f"realconv{i}.weight"]), F.conv2d(x.imag, state[f"imagconv{i}.weight"])
    )
    return torch.relu(torch.fft.ifft2(torch.fft.ifftshift(x, dim=[-2, -1]), norm="ortho").real)


def freqnet_reference(state: dict[str, torch.Tensor], image: Image.Image, resize: int | None = 256) -> float:
    if resize:
        image = image.resize((resize, resize), Image.BILINEAR)
    x = imagenet_tensor(image)
    wh, ch = (-2, -1), (1,)
    x = _fcl(_hfreq(torch.relu(F.conv2d(_hfreq(x, wh), state["weight1"], state["bias1"])), ch), state, 1)
    x = _fcl(
        _hfreq(torch.relu(F.conv2d(_hfreq(x, wh), state["weight2"], state["bias2"], stride=2)), ch), state, 2
    )
    x = bottleneck_stage_forward(F.max_pool2d(x, 3, 2, 1), state, "layer1", 1)
    x = _fcl(torch.relu(F.conv2d(_hfreq(x, wh), state["weight3"], state["bias3"])), state, 3)
    x = _fcl(torch.relu(F.conv2d(_hfreq(x, wh), state["weight4"], state["bias4"], stride=2)), state, 4)
    x = bottleneck_stage_forward(x, state, "layer2", 2)
    return float(torch.sigmoid(F.linear(x.mean(dim=(-2, -1)), state["fc1.weight"], state["fc1.bias"]))[0, 0])


def test_freqnet_scores_as_the_authors_forward_through_spotfake_run(tmp_path: Path) -> None:
    state = freqnet_state()
    weights = tmp_path / "freqnet.pth"
    torch.save(state, weights)  # their test.py: load_state_dict(torch.load(path), strict=True)
    weights.with_suffix(".json").write_text(json.dumps({"layers": [1, 1], "width": 8}))
    images = image_folder(tmp_path / "data", SIZES[:3])
    scores = run_scores(tmp_path, "freqnet", f"path={weights},device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(freqnet_reference(state, image), abs=1e-5)
    assert run_settings(tmp_path) == {
        "threshold": 0.5,
        "arch": "freqnet",
        "preprocess": {
            "resize": ["square", 256],
            "crop": None,
            "backend": "pil",
            "norm": "imagenet",
            "interpolation": "bilinear",
        },
        "layers": [1, 1],
        "width": 8,
        "sha256": {"freqnet.pth": sha256_of(weights)},
    }


def test_freqnet_published_architecture_layout() -> None:
    with torch.device("meta"):
        network = freqnet.build_network(dict(freqnet.DEFAULT_CONFIG))
    got = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    expected = {k: tuple(v.shape) for k, v in freqnet_state(width=64, layers=(3, 4)).items()}
    assert got == expected
    assert (
        got["weight1"] == (64, 3, 1, 1)
        and got["weight3"] == (256, 256, 1, 1)
        and got["fc1.weight"] == (1, 512)
    )


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda s: {("realconv9.weight" if k == "realconv1.weight" else k): v for k, v in s.items()},
            "realconv",
        ),
        (lambda s: {**s, "weight3": torch.zeros(32, 31, 1, 1)}, "weight3"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_freqnet_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    weights = tmp_path / "freqnet.pth"
    torch.save(edit(freqnet_state()), weights)
    weights.with_suffix(".json").write_text(json.dumps({"layers": [1, 1], "width": 8}))
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("freqnet", f"path={weights},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
