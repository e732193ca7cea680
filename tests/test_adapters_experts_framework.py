"""The pieces every expert adapter is built from: the declarative preprocessing spec, strict loading with
containers, prefixes and renames, streamed and cached sha256 identity, GRIP folders, bundles, and the
expert cards of `spotfake list models`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torchvision import transforms
from zoo_reference import albumentations_pad_crop

from spotfake.adapters.experts import file_identity
from spotfake.adapters.experts.bundles import bundle_file, read_grip_folder
from spotfake.adapters.experts.catalog import EXPERTS
from spotfake.adapters.experts.checkpoints import load_into, require_file, state_dict_from
from spotfake.adapters.experts.preprocess import NORMS, Preprocess
from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import MODELS


def _image(h: int, w: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("spec", "reference"),
    [
        (
            Preprocess(resize=("shorter", 40), crop=("center", 32), norm="clip", interpolation="bicubic"),
            transforms.Compose(
                [
                    transforms.Resize(40, interpolation=transforms.InterpolationMode.BICUBIC),
                    transforms.CenterCrop(32),
                    transforms.ToTensor(),
                    transforms.Normalize(*NORMS["clip"]),  # type: ignore[misc]
                ]
            ),
        ),
        (
            Preprocess(resize=("square", 24), norm="imagenet"),
            transforms.Compose(
                [transforms.Resize((24, 24)), transforms.ToTensor(), transforms.Normalize(*NORMS["imagenet"])]  # type: ignore[misc]
            ),
        ),
        (
            Preprocess(crop=("center", 64), norm="none"),
            transforms.Compose([transforms.CenterCrop(64), transforms.ToTensor()]),
        ),
        (
            Preprocess(norm="half"),
            transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)]),
        ),
        (
            Preprocess(
                resize=("shorter", 40), crop=("center", 32), norm=((127.0,) * 3, (128.0,) * 3), pixels="byte"
            ),
            transforms.Compose(
                [
                    transforms.Resize(40),
                    transforms.CenterCrop(32),
                    transforms.PILToTensor(),
                    transforms.Lambda(lambda x: (x.float() - 127.0) / 128.0),
                ]
            ),
        ),
    ],
)
def test_the_spec_builds_what_the_torchvision_pipeline_it_names_builds(
    spec: Preprocess, reference: transforms.Compose
) -> None:
    for size in ((48, 56), (30, 70), (64, 64)):
        image = _image(*size)
        assert torch.allclose(spec.build()(image), reference(image), atol=1e-6)


@pytest.mark.parametrize("size", [(48, 56), (35, 70), (20, 45), (32, 33), (27, 19)])
def test_the_floor_offset_is_pad_if_needed_then_centre_crop_as_albumentations(size: tuple[int, int]) -> None:
    image = _image(*size)
    floor = Preprocess(crop=("center", 32), crop_offset="floor", norm="imagenet").build()(image)
    assert torch.allclose(floor, albumentations_pad_crop(image, 32)[0], atol=1e-6)
    torchvision = Preprocess(crop=("center", 32), norm="imagenet").build()(image)
    odd = any(n > 32 and round((n - 32) / 2) != (n - 32) // 2 for n in size)
    assert torch.equal(floor, torchvision) != odd  # they differ exactly where round and floor do


def test_a_centre_crop_pads_small_images_with_the_declared_mode() -> None:
    image = _image(10, 12)
    zero = Preprocess(crop=("center", 16), norm="none").build()(image)
    assert zero.shape == (3, 16, 16) and torch.equal(zero[:, 0, :], torch.zeros(3, 16))
    reflect = Preprocess(crop=("center", 16), norm="none", pad="reflect").build()(image)
    assert reflect.shape == (3, 16, 16) and reflect[:, 0, :].abs().sum() > 0
    assert torch.equal(reflect[:, 3:13, 2:14], zero[:, 3:13, 2:14])


def test_the_tensor_backend_resizes_without_antialiasing_as_cv2_does() -> None:
    image = _image(64, 64)
    out = Preprocess(resize=("square", 16), norm="none", backend="tensor").build()(image)
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float()
    expected = torch.nn.functional.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
    assert torch.allclose(out * 255, expected[0].round(), atol=1e-3)
    pil = Preprocess(resize=("square", 16), norm="none").build()(image)
    assert not torch.allclose(out, pil, atol=1e-2)  # PIL antialiases on downscale


def test_the_spec_records_itself_as_json_and_refuses_unknown_values() -> None:
    spec = Preprocess(resize=("shorter", 440), crop=("center", 384), interpolation="bicubic")
    assert spec.to_dict() == {
        "resize": ["shorter", 440],
        "crop": ["center", 384],
        "norm": "imagenet",
        "interpolation": "bicubic",
        "pad": "zero",
        "backend": "pil",
    }
    assert json.loads(json.dumps(spec.to_dict())) == spec.to_dict()
    assert spec.input_size == 384 and Preprocess().input_size is None
    assert Preprocess(crop=("five", 504)).build()(_image(20, 30)).shape == (3, 20, 30)  # the model crops
    custom = Preprocess(norm=((0.1, 0.2, 0.3), (1.0, 1.0, 1.0)))
    assert custom.to_dict()["norm"] == {"mean": [0.1, 0.2, 0.3], "std": [1.0, 1.0, 1.0]}
    floor = Preprocess(crop=("center", 224), crop_offset="floor", pixels="byte").to_dict()
    assert floor["crop_offset"] == "floor" and floor["pad"] == "zero" and floor["pixels"] == "byte"
    assert "crop_offset" not in spec.to_dict() and "pixels" not in spec.to_dict()  # defaults not recorded
    for bad in (
        {"resize": ("long", 3)},
        {"crop": ("center", 0)},
        {"norm": "laion"},
        {"interpolation": "area"},
        {"crop_offset": "ceil"},
        {"pixels": "float"},
    ):
        with pytest.raises(ValueError):
            Preprocess(**bad)  # type: ignore[arg-type]


def test_containers_prefixes_and_renames_reach_one_strict_state_dict(tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    state = {f"module.backbone.{k}": v for k, v in net.state_dict().items()}
    for container in ("model", "state_dict", "net"):
        flat = state_dict_from({container: state, "epoch": 3}, tmp_path, renames=[("backbone.", "")])
        load_into(net, flat, tmp_path, "toy")
    assert set(state_dict_from(state, tmp_path, strip=())) == set(state)
    with pytest.raises(SpotfakeError, match=r"2 missing \['0.bias', '0.weight'\], 2 unexpected"):
        load_into(net, state_dict_from(state, tmp_path), tmp_path, "toy")
    wide = {"0.weight": torch.zeros(2, 4), "0.bias": torch.zeros(2)}
    with pytest.raises(SpotfakeError, match=r"0.weight has shape \(2, 4\).*expects \(2, 3\)"):
        load_into(net, wide, tmp_path, "toy")


def test_a_missing_file_names_the_file_and_where_it_is_published(tmp_path: Path) -> None:
    with pytest.raises(
        SpotfakeError, match=r"rine checkpoint not found: .*nope.pth; its authors publish it at X"
    ):
        require_file(tmp_path / "nope.pth", "rine checkpoint", "X")
    with pytest.raises(SpotfakeError, match="pass path=<file>"):
        require_file(None, "rine checkpoint", "X")


def test_sha256_is_streamed_once_and_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "w.pth"
    file.write_bytes(b"x" * (3 << 20))
    calls: list[Path] = []
    real = file_identity.sha256_stream
    monkeypatch.setattr(file_identity, "sha256_stream", lambda p: calls.append(p) or real(p))
    cache = tmp_path / "cache"
    first = file_identity.file_sha256(file, cache)
    import hashlib

    assert first == hashlib.sha256(file.read_bytes()).hexdigest()
    assert file_identity.file_sha256(file, cache) == first and len(calls) == 1
    file.write_bytes(b"y" * (3 << 20))  # same size, new mtime: read again
    assert file_identity.file_sha256(file, cache) != first and len(calls) == 2
    assert set(file_identity.files_sha256([file], cache)) == {"w.pth"}


def _grip(folder: Path, patch_size: object, norm: str = "resnet") -> Path:
    folder.mkdir(parents=True)
    config = {"arch": "res50nodown", "model_name": folder.name, "norm_type": norm, "patch_size": patch_size}
    (folder / "config.yaml").write_text(yaml.safe_dump({**config, "weights_file": "weights.pth"}))
    torch.save({"model": {}}, folder / "weights.pth")
    return folder


def test_grip_folders_give_the_transform_their_main_py_builds(tmp_path: Path) -> None:
    full = read_grip_folder(_grip(tmp_path / "Corvi2023", None), "X")
    assert full.arch == "res50nodown" and full.weights.name == "weights.pth"
    assert full.preprocess() == Preprocess(norm="imagenet")
    clip = read_grip_folder(_grip(tmp_path / "clipdet", "Clip224", "clip"), "X").preprocess()
    assert clip == Preprocess(
        resize=("shorter", 224), crop=("center", 224), norm="clip", interpolation="bicubic"
    )
    assert read_grip_folder(_grip(tmp_path / "c", 96), "X").preprocess().crop == ("center", 96)
    with pytest.raises(SpotfakeError, match="config.yaml not found.*publish it at X"):
        read_grip_folder(tmp_path, "X")
    (tmp_path / "Corvi2023" / "weights.pth").unlink()
    with pytest.raises(SpotfakeError, match="weights.pth not found"):
        read_grip_folder(tmp_path / "Corvi2023", "X")


def test_a_bundle_file_is_found_by_name_in_the_sidbench_layout(tmp_path: Path) -> None:
    files = {"sidbench": {"1class": "rine/model_1class_trainable.pth"}}
    (tmp_path / "weights" / "rine").mkdir(parents=True)
    (tmp_path / "weights" / "rine" / "model_1class_trainable.pth").write_bytes(b"")
    assert bundle_file(tmp_path, "1class", files, "rine").name == "model_1class_trainable.pth"
    assert bundle_file(tmp_path / "weights", "1class", files, "rine").parent.name == "rine"
    with pytest.raises(SpotfakeError, match=r"name= one of \['1class'\]"):
        bundle_file(tmp_path, "2class", files, "rine")
    with pytest.raises(SpotfakeError, match="hf download dkarageo/sidbench"):
        bundle_file(tmp_path / "rine", "1class", files, "rine")


def test_every_expert_has_a_card_and_list_models_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    for row in EXPERTS:
        entry = MODELS.entry(row.name)
        assert entry.meta["kind"] == "expert"
        assert all(entry.meta[k] for k in ("paper", "year", "licence", "input")), row.name
    assert main(["list", "models", "univfd"]) == 0
    out = capsys.readouterr().out
    assert "Ojha et al., CVPR 2023; weights: MIT" in out and "input: centre crop 224" in out
