"""LGrad and DIRE classify precomputed maps (``maps=DIR``) with their authors' ResNet-50 checkpoints:
each sample's map is found in the authors' layouts and scored as the authors' classifier scores it; the
image itself is never used; a missing map is that sample's error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.models.resnet import Bottleneck, ResNet
from zoo_reference import image_folder, imagenet_tensor, run_error, run_scores, run_settings, sha256_of

from spotfake.adapters.experts.map_detectors import map_candidates
from spotfake.harness.model import Item, build_model
from spotfake.harness.types import Sample

TINY = {"layers": [1, 1, 1, 1]}


def resnet_authors(seed: int) -> torch.nn.Module:
    """CNNDetection's ``resnet50(num_classes=1)`` (torchvision names), one block per stage, random BN."""
    torch.manual_seed(seed)
    net = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=1)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
        net.fc.weight.mul_(0.3)
    return net.eval()


def write_maps(
    data: Path, maps: Path, images: dict[str, Image.Image], lgrad_layout: bool
) -> dict[str, Image.Image]:
    """A map per image (different pixels from the image): DIRE keeps the relative path and name; LGrad
    writes ``<folder>_grad/<stem>.png``."""
    rng = np.random.default_rng(7)
    out = {}
    for rel, image in images.items():
        rel_path = Path(rel)
        target = maps / (
            rel_path.parent.parent / f"{rel_path.parent.name}_grad" / f"{rel_path.stem}.png"
            if lgrad_layout
            else rel_path
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        size = (256, 256) if lgrad_layout else (image.height, image.width)
        high = 64 * (len(out) + 1)  # each map its own intensity range, so that scores differ
        grad = Image.fromarray(rng.integers(0, high, (*size, 3), dtype=np.uint8))
        grad.save(target)
        out[rel] = grad
    return out


def save(path: Path, state: dict[str, torch.Tensor], wrapped: bool) -> Path:
    torch.save({"model": state, "epoch": 7} if wrapped else state, path)
    path.with_suffix(".json").write_text(json.dumps(TINY))
    return path


def reference(net: torch.nn.Module, map_image: Image.Image, dire: bool) -> float:
    if dire:  # Resize(256) on the shorter side, then CenterCrop(224) at round((n - 224) / 2)
        w, h = map_image.size
        size = (int(256 * w / h), 256) if h <= w else (256, int(256 * h / w))
        map_image = map_image.resize(size, Image.BILINEAR)
        top, left = int(round((map_image.height - 224) / 2)), int(round((map_image.width - 224) / 2))
        map_image = map_image.crop((left, top, left + 224, top + 224))
    with torch.no_grad():
        return float(torch.sigmoid(net(imagenet_tensor(map_image)))[0, 0])


@pytest.mark.parametrize("model", ["lgrad", "dire"])
def test_maps_are_scored_as_the_authors_classifier_scores_them(tmp_path: Path, model: str) -> None:
    net = resnet_authors(seed=1 if model == "dire" else 2)
    weights = save(tmp_path / f"{model}.pth", net.state_dict(), wrapped=model == "dire")
    images = image_folder(tmp_path / "data", [(240, 300), (260, 230), (256, 256)])
    maps = write_maps(tmp_path / "data", tmp_path / "maps", images, lgrad_layout=model == "lgrad")
    scores = run_scores(
        tmp_path, model, f"path={weights},maps={tmp_path / 'maps'},device=cpu", tmp_path / "data"
    )
    for rel, map_image in maps.items():
        assert scores[rel] == pytest.approx(reference(net, map_image, dire=model == "dire"), abs=1e-5)
        assert scores[rel] != pytest.approx(reference(net, images[rel], dire=model == "dire"), abs=1e-4)
    settings = run_settings(tmp_path)
    expected_crop = ["center", 224] if model == "dire" else None
    assert settings["preprocess"]["crop"] == expected_crop and settings["preprocess"]["norm"] == "imagenet"
    assert settings["sha256"] == {f"{model}.pth": sha256_of(weights)} and settings["layers"] == [1, 1, 1, 1]


def test_a_sample_without_a_map_is_its_own_error(tmp_path: Path) -> None:
    weights = save(tmp_path / "lsun_adm.pth", resnet_authors(seed=3).state_dict(), wrapped=True)
    maps = tmp_path / "maps"
    (maps / "1_fake").mkdir(parents=True)
    Image.new("RGB", (230, 230), (9, 9, 9)).save(maps / "1_fake" / "a.png")
    model = build_model("dire", {"path": str(weights), "maps": str(maps), "device": "cpu"})
    image = Image.new("RGB", (230, 230))
    items = [
        Item(Sample(id=i, label="fake", prompt="?"), [image])
        for i in ("1_fake/a.png", "1_fake/b.jpg", "../x.png")
    ]
    first, missing, unsafe = model.predict(items)
    assert first.error is None and first.score is not None
    assert (
        missing.error is not None and "1_fake/b.jpg" in missing.error and "1_fake_grad/b.png" in missing.error
    )
    assert unsafe.error is not None and "unsafe" in unsafe.error


def test_map_candidates_follow_the_authors_layouts(tmp_path: Path) -> None:
    got = [p.relative_to(tmp_path).as_posix() for p in map_candidates(tmp_path, "progan/cat/0_real/01.jpg")]
    assert got == ["progan/cat/0_real/01.jpg", "progan/cat/0_real/01.png", "progan/cat/0_real_grad/01.png"]
    assert map_candidates(tmp_path, "/etc/passwd") == [] and map_candidates(tmp_path, "a/../../b.png") == []


def test_maps_are_required_and_the_message_names_the_authors_script(tmp_path: Path, capsys) -> None:
    weights = save(tmp_path / "LGrad.pth", resnet_authors(seed=4).state_dict(), wrapped=False)
    image_folder(tmp_path / "data", [(64, 64), (64, 64)])
    code, err = run_error("lgrad", f"path={weights},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and "maps=" in err and "gen_imggrad.py" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: {k.replace("fc.", "fc1."): v for k, v in s.items()}, "fc1.weight"),
        (lambda s: {**s, "fc.weight": torch.zeros(1, 2047)}, "fc.weight"),
    ],
    ids=["wrong-key", "wrong-shape"],
)
def test_wrong_checkpoint_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    weights = save(tmp_path / "lsun_adm.pth", edit(resnet_authors(seed=5).state_dict()), wrapped=True)
    image_folder(tmp_path / "data", [(64, 64), (64, 64)])
    (tmp_path / "maps").mkdir()
    code, err = run_error(
        "dire", f"path={weights},maps={tmp_path / 'maps'},device=cpu", tmp_path / "data", capsys
    )
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_a_pre_processor_failing_on_one_image_is_that_samples_error(tmp_path: Path) -> None:
    """With ``preprocessor=``, a map that cannot be computed for one image errors that sample only."""
    weights = save(tmp_path / "lsun_adm.pth", resnet_authors(seed=6).state_dict(), wrapped=True)
    model = build_model("dire", {"path": str(weights), "maps": str(tmp_path), "device": "cpu"})

    def make_map(image: Image.Image, source_name: str = "") -> Image.Image:
        if image.size == (7, 7):
            raise ValueError("image smaller than the pre-processor's window")
        return image

    model.maps, model.make_map = None, make_map
    items = [
        Item(Sample(id=i, label="fake", prompt="?"), [Image.new("RGB", size, (40, 80, 120))])
        for i, size in (("good.png", (230, 230)), ("tiny.png", (7, 7)))
    ]
    good, tiny = model.predict(items)
    assert good.error is None and good.score is not None
    assert tiny.error is not None and "tiny.png" in tiny.error and "smaller than" in tiny.error
