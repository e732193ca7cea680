"""The GRIP folder family (Corvi2023, AlignedForensics, ClipDet): a folder saved as GRIP's code saves it
(``config.yaml`` + ``weights.pth``) loads strictly through `spotfake run` and gives the p(fake) of an
independent forward; wrong keys and shapes are one error and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
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
from torchvision.models import resnet50

from spotfake.adapters.experts.file_identity import sha256_stream
from spotfake.adapters.experts.grip import ClipDet, Corvi2023
from spotfake.adapters.experts.preprocess import Preprocess

IMAGENET = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLIP = transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


def _folder(
    root: Path, arch: str, norm: str, patch_size: object, state: dict[str, torch.Tensor], wrap: str
) -> Path:
    root.mkdir(parents=True)
    config = {
        "arch": arch,
        "model_name": root.name,
        "norm_type": norm,
        "patch_size": patch_size,
        "weights_file": "weights.pth",
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save({wrap: state} if wrap else state, root / "weights.pth")
    return root


def _random_res50() -> torch.nn.Module:
    torch.manual_seed(0)
    net = resnet50(num_classes=1)
    for module in net.modules():  # non-trivial batch-norm statistics, as a trained network has
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def _nodown_forward(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """GRIP's res50nodown written out: 7x7 stem at stride 1, max-pool at stride 1, the four stages,
    global average pool, the 1-output linear layer."""
    x = F.relu(net.bn1(F.conv2d(x, net.conv1.weight, stride=1, padding=3)))
    x = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
    x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
    return net.fc(x.mean(dim=(2, 3)))


def test_corvi2023_folder_runs_the_full_image_as_grip_does(tmp_path: Path) -> None:
    net = _random_res50()
    state = {f"module.{k}": v for k, v in net.state_dict().items()}  # GRIP's DataParallel-saved layout
    folder = _folder(tmp_path / "Corvi2023", "res50nodown", "resnet", None, state, "model")
    data = tmp_path / "images"
    paths = image_folder(data, sizes=((20, 24), (17, 23), (20, 24)))  # small: a full ResNet-50 at stride 1
    scores = run_expert(tmp_path, "corvi2023", f"path={folder}", data)
    transform = transforms.Compose([transforms.ToTensor(), IMAGENET])  # patch_size null: no resize, no crop
    assert_matches(
        scores, reference_scores(data, paths, transform, lambda x: _nodown_forward(net, x)), atol=1e-4
    )
    settings = results_settings(tmp_path, "corvi2023")
    assert settings["preprocess"] == Preprocess(norm="imagenet").to_dict()
    assert settings["sha256"] == {"weights.pth": sha256_stream(folder / "weights.pth")}


def test_a_bare_weights_file_runs_with_corvi2023s_published_preprocessing(tmp_path: Path) -> None:
    net = _random_res50()
    torch.save({"state_dict": net.state_dict()}, tmp_path / "corvi22_latent_model.pth")
    model = Corvi2023(path=str(tmp_path / "corvi22_latent_model.pth"), device="cpu")
    assert model.spec == Preprocess(norm="imagenet") and model.settings()["arch"] == "corvi2023"


def _tiny_open_clip(root: Path) -> torch.nn.Module:
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    config = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 32, "head_width": 16, "patch_size": 32},
        "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1},
    }
    torch.manual_seed(1)
    model = CLIP(**config).eval()  # type: ignore[arg-type]
    root.mkdir()
    (root / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, str(root / "open_clip_model.safetensors")
    )
    return model


def test_clipdet_folder_normalises_the_next_to_last_clip_feature_and_applies_fc(tmp_path: Path) -> None:
    clip = _tiny_open_clip(tmp_path / "commonpool")
    fc = torch.nn.Linear(32, 1)
    folder = _folder(
        tmp_path / "clipdet_latent10k",
        "opencliplinearnext_clipL14commonpool",
        "clip",
        "Clip224",
        {"module.fc.weight": fc.weight.detach(), "module.fc.bias": fc.bias.detach()},
        "model",
    )
    data = tmp_path / "images"
    paths = image_folder(data)
    scores = run_expert(tmp_path, "clipdet", f"path={folder},clip_path={tmp_path / 'commonpool'}", data)
    transform = transforms.Compose(
        [
            transforms.Resize(224, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop((224, 224)),
            transforms.ToTensor(),
            CLIP,
        ]
    )
    visual = clip.visual

    def forward(x: torch.Tensor) -> torch.Tensor:
        visual.proj = None  # next_to_last: the pooled token before the projection
        return fc(F.normalize(visual(x), dim=-1))

    assert_matches(scores, reference_scores(data, paths, transform, forward), atol=1e-5)
    sha = results_settings(tmp_path, "clipdet")["sha256"]
    assert set(sha) == {"weights.pth", "open_clip_model.safetensors"}  # the backbone is part of the identity


def test_wrong_keys_and_shapes_are_one_error_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "images"
    image_folder(data, sizes=((16, 16),))
    state = _random_res50().state_dict()
    renamed = {k.replace("layer4.", "stage4."): v for k, v in state.items()}
    folder = _folder(tmp_path / "wrong_keys", "res50nodown", "resnet", None, renamed, "model")
    code, err = failed_run(tmp_path, "corvi2023", f"path={folder}", data, capsys)
    assert code == 2 and "keys do not match the corvi2023 architecture" in err and "stage4." in err
    assert len(err.strip().splitlines()) == 1
    state["fc.weight"] = torch.zeros(2, 2048)
    folder = _folder(tmp_path / "wrong_shape", "res50nodown", "resnet", None, state, "net")
    code, err = failed_run(tmp_path, "corvi2023", f"path={folder}", data, capsys)
    assert code == 2 and "fc.weight has shape (2, 2048)" in err and len(err.strip().splitlines()) == 1


def test_a_folder_for_another_arch_and_a_missing_backbone_are_refused(tmp_path: Path) -> None:
    from spotfake.harness.errors import SpotfakeError

    folder = _folder(tmp_path / "clipdet", "opencliplinearnext_clipL14commonpool", "clip", "Clip224", {}, "")
    with pytest.raises(SpotfakeError, match="is not corvi2023's"):
        Corvi2023(path=str(folder), device="cpu")
    with pytest.raises(SpotfakeError, match="CommonPool"):
        ClipDet(path=str(folder), device="cpu")
