"""AIDE loads its authors' training checkpoint through ``spotfake run`` and scores like the authors' model
rebuilt here: DCT window grading written with scipy's DCT, resizes with ``F.interpolate``, and the
forward of ``AIDE_Model`` (SRM filters, two ResNets, a timm ConvNeXt trunk, the MLP) spelled out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from scipy.fft import dctn
from torch.nn import functional as F
from torchvision.models.resnet import Bottleneck, ResNet
from zoo_reference import image_folder, run_error, run_scores, run_settings, sha256_of

from spotfake.adapters.experts import aide

# 64-pixel views instead of 256 keep the four ResNet passes per image cheap on a CPU
TINY = {
    "timm_kwargs": {"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]},
    "resnet_layers": [1, 1, 1, 1],
    "size": 64,
}
SIZES = [(64, 80), (40, 40)]  # several windows; a single window (then it is all four)
IMAGENET = (np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))
CLIP = (np.array([0.48145466, 0.4578275, 0.40821073]), np.array([0.26862954, 0.26130258, 0.27577711]))


def graded_windows(array: np.ndarray) -> list[np.ndarray]:
    """``DCT_base_Rec_Module`` from its description: 32 x 32 windows at stride 16, graded by
    ``sum_i 2**i * sum_c sum_{i+j in band i} log(|DCT| + 1) / |band i|``; lowest, highest, 2nd lowest, 2nd highest."""
    height, width, _ = array.shape
    windows = [
        array[top : top + 32, left : left + 32].transpose(2, 0, 1)
        for top in range(0, height - 31, 16)
        for left in range(0, width - 31, 16)
    ]
    diag = np.add.outer(np.arange(32), np.arange(32))
    grades = []
    for window in windows:
        logs = np.log(np.abs(dctn(window.astype(np.float64), axes=(1, 2), norm="ortho")) + 1)
        total = 0.0
        for i in range(6):
            mask = (diag >= 64 / 6 * i) & (diag <= 64 / 6 * (i + 1))
            total += 2**i * (logs * mask).sum() / mask.sum()
        grades.append(total)
    order = np.argsort(grades, kind="stable")
    second = 1 if len(order) > 1 else 0  # one window: it is all four
    return [windows[i] for i in (order[0], order[-1], order[second], order[-1 - second])]


def views(image: Image.Image, size: int = 64) -> torch.Tensor:
    """(1, 5, 3, size, size): the four windows and the whole image, ``F.interpolate`` bilinear, ImageNet norm."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    out = []
    for view in [*graded_windows(array), array.transpose(2, 0, 1)]:
        tensor = F.interpolate(
            torch.from_numpy(np.ascontiguousarray(view))[None].float(),
            size=(size, size),
            mode="bilinear",
            align_corners=False,
        )
        mean, std = (torch.tensor(v, dtype=torch.float32).view(3, 1, 1) for v in IMAGENET)
        out.append((tensor[0] - mean) / std)
    return torch.stack(out)[None]


class AuthorsAIDE(torch.nn.Module):
    """``AIDE_Model``'s modules under its names, scaled down (timm ConvNeXt trunk, 1-block ResNets)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.hpf = torch.nn.Module()
        self.hpf.hpf = torch.nn.Conv2d(3, 30, 5, padding=2, bias=False)
        self.model_min, self.model_max = (ResNet(Bottleneck, [1, 1, 1, 1]) for _ in range(2))
        for net in (self.model_min, self.model_max):
            net.conv1 = torch.nn.Conv2d(30, 64, 7, 2, 3, bias=False)
        trunk = timm.create_model("convnext_xxlarge", pretrained=False, num_classes=0, **TINY["timm_kwargs"])
        trunk.head.global_pool, trunk.head.flatten = torch.nn.Identity(), torch.nn.Identity()
        self.openclip_convnext_xxl = trunk
        self.convnext_proj = torch.nn.Sequential(torch.nn.Linear(64, 256))
        self.fc = torch.nn.Module()
        self.fc.fc1, self.fc.fc2 = torch.nn.Linear(2304, 1024), torch.nn.Linear(1024, 2)
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name.endswith("gamma"):
                    param.copy_(torch.rand_like(param))
            for module in self.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.running_mean.normal_(0, 0.1)
                    module.running_var.uniform_(0.5, 1.5)
            self.fc.fc2.weight.mul_(20.0)
        self.eval()

    def score(self, x: torch.Tensor) -> float:
        def features(net: torch.nn.Module, patch: torch.Tensor) -> torch.Tensor:
            h = net.maxpool(net.relu(net.bn1(net.conv1(patch))))
            h = net.layer4(net.layer3(net.layer2(net.layer1(h))))
            return torch.flatten(net.avgpool(h), 1)

        with torch.no_grad():
            mean_i, std_i = (torch.tensor(v, dtype=torch.float32).view(3, 1, 1) for v in IMAGENET)
            mean_c, std_c = (torch.tensor(v, dtype=torch.float32).view(3, 1, 1) for v in CLIP)
            tokens = x[:, 4] * (std_i / std_c) + (mean_i - mean_c) / std_c
            x0 = self.convnext_proj(self.openclip_convnext_xxl(tokens).mean(dim=(-2, -1)))
            p = [self.hpf.hpf(x[:, i]) for i in range(4)]
            x1 = (
                features(self.model_min, p[0])
                + features(self.model_max, p[1])
                + features(self.model_min, p[2])
                + features(self.model_max, p[3])
            ) / 4
            logits = self.fc.fc2(F.gelu(self.fc.fc1(torch.cat([x0, x1], dim=1))))
        return float(torch.softmax(logits, dim=1)[0, 1])


def save_aide(folder: Path, state: dict[str, torch.Tensor]) -> Path:
    """As their ``utils.save_model``: model, optimizer, epoch, scaler and the argparse options."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "checkpoint-best.pth"
    args = argparse.Namespace(model="AIDE", batch_size=32, blr=5e-4, resnet_path=None, convnext_path=None)
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
    path.with_suffix(".json").write_text(json.dumps(TINY))
    return path


def test_patch_selection_matches_the_dct_grading() -> None:
    rng = np.random.default_rng(3)
    array = rng.random((70, 90, 3)).astype(np.float32)
    got = aide.select_patches(torch.from_numpy(array).permute(2, 0, 1))
    for ours, expected in zip(got, graded_windows(array), strict=True):
        assert np.abs(ours.numpy() - expected).max() < 1e-5
    with pytest.raises(ValueError, match="at least 32x32"):
        aide.select_patches(torch.zeros(3, 31, 64))


def test_aide_scores_as_the_authors_model_through_spotfake_run(tmp_path: Path) -> None:
    net = AuthorsAIDE(seed=0)
    weights = save_aide(tmp_path / "ckpt", net.state_dict())
    images = image_folder(tmp_path / "data", SIZES)
    scores = run_scores(tmp_path, "aide", f"path={weights},device=cpu", tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(net.score(views(image)), abs=1e-5)
    settings = run_settings(tmp_path)
    assert settings["preprocess"] == {
        "resize": ["square", 64],
        "crop": None,
        "backend": "tensor",
        "norm": "imagenet",
        "interpolation": "bilinear",
    }
    assert settings["timm_kwargs"] == TINY["timm_kwargs"] and settings["resnet_layers"] == [1, 1, 1, 1]
    assert settings["sha256"] == {"checkpoint-best.pth": sha256_of(weights)}


def test_aide_published_layout() -> None:
    with torch.device("meta"):
        network = aide.AIDENet(dict(aide.DEFAULT_CONFIG))
    shapes = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    assert shapes["hpf.hpf.weight"] == (30, 3, 5, 5)
    assert shapes["model_min.conv1.weight"] == (64, 30, 7, 7) and shapes["model_max.fc.weight"] == (
        1000,
        2048,
    )
    assert shapes["openclip_convnext_xxl.stem.0.weight"] == (384, 3, 4, 4)
    assert shapes["openclip_convnext_xxl.stages.2.blocks.29.gamma"] == (1536,)
    assert shapes["openclip_convnext_xxl.head.norm.weight"] == (3072,)
    assert not any(k.startswith("openclip_convnext_xxl.head.fc") for k in shapes)
    assert shapes["convnext_proj.0.weight"] == (256, 3072)
    assert shapes["fc.fc1.weight"] == (1024, 2304) and shapes["fc.fc2.weight"] == (2, 1024)
    assert aide.DEFAULT_CONFIG["size"] == 256  # their transform_train: Resize([256, 256])


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda s: {k.replace("convnext_proj.0.", "convnext_proj.1."): v for k, v in s.items()},
            "convnext_proj",
        ),
        (lambda s: {**s, "hpf.hpf.weight": torch.zeros(30, 3, 3, 3)}, "hpf.hpf.weight"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_aide_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    weights = save_aide(tmp_path / "ckpt", edit(AuthorsAIDE(seed=1).state_dict()))
    image_folder(tmp_path / "data", SIZES)
    code, err = run_error("aide", f"path={weights},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
