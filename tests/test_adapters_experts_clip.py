"""The CLIP-family experts (C2P-CLIP, RINE, Effort): tiny CLIP towers whose checkpoints have the
authors' key names and containers, saved as the authors save them, run through `spotfake run` and
compared with forwards written here; wrong keys and shapes exit 2 with one line."""

from __future__ import annotations

import json
import zipfile
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
from torchvision import transforms
from transformers import CLIPVisionConfig, CLIPVisionModel, CLIPVisionModelWithProjection

from spotfake.adapters.experts import c2p_clip, effort, rine
from spotfake.adapters.experts.file_identity import sha256_stream

TINY = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "projection_dim": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "image_size": 224,
    "patch_size": 32,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
}
CLIP_NORM = transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "clip_config.json"
    path.write_text(json.dumps({"vision_config": TINY}))  # a CLIPConfig's layout
    return path


def _tower(seed: int) -> CLIPVisionModel:
    torch.manual_seed(seed)
    return CLIPVisionModel(CLIPVisionConfig(**TINY)).eval()


def test_c2p_clip_loads_the_released_zip_and_scores_the_normalised_embedding(tmp_path: Path) -> None:
    tower = _tower(0)
    projection = torch.nn.Linear(32, 16, bias=False)
    fc = torch.nn.Linear(16, 1)
    state = {f"model.vision_model.{k}": v for k, v in tower.state_dict().items()}
    state["model.vision_model.embeddings.position_ids"] = torch.arange(50)[
        None
    ]  # older transformers saved it
    state |= {"model.visual_projection.weight": projection.weight.detach()}
    state |= {"model.fc.weight": fc.weight.detach(), "model.fc.bias": fc.bias.detach()}
    torch.save(state, tmp_path / "C2P_CLIP_release_20240901.pth")
    release = tmp_path / "C2P_CLIP_release_20240901.zip"  # what torch.hub.load_state_dict_from_url unpacks
    with zipfile.ZipFile(release, "w") as archive:
        archive.write(tmp_path / "C2P_CLIP_release_20240901.pth", "C2P_CLIP_release_20240901.pth")
    data = tmp_path / "images"
    paths = image_folder(data)
    scores = run_expert(tmp_path, "c2p-clip", f"path={release},config={_config_file(tmp_path)}", data)
    transform = transforms.Compose(
        [transforms.Resize(224), transforms.CenterCrop(224), transforms.ToTensor(), CLIP_NORM]
    )

    def forward(x: torch.Tensor) -> torch.Tensor:
        embeds = projection(tower(pixel_values=x).pooler_output)
        return fc(embeds / embeds.norm(dim=-1, keepdim=True))

    assert_matches(scores, reference_scores(data, paths, transform, forward))
    settings = results_settings(tmp_path, "c2p-clip")
    assert settings["preprocess"] == c2p_clip.SPEC.to_dict()
    assert settings["sha256"] == {
        release.name: sha256_stream(release)
    }  # the published file, not the unpacked one


def _rine_state(nproj: int, proj_dim: int, width: int = 32, blocks: int = 2) -> dict[str, torch.Tensor]:
    torch.manual_seed(2)
    state = {"alpha": torch.randn(1, blocks, proj_dim)}
    for part in ("proj1", "proj2"):
        for i in range(nproj):
            in_dim = width if (part == "proj1" and i == 0) else proj_dim
            state[f"{part}.{1 + 3 * i}.weight"] = torch.randn(proj_dim, in_dim) / in_dim**0.5
            state[f"{part}.{1 + 3 * i}.bias"] = torch.randn(proj_dim) * 0.1
    for i, out in ((0, proj_dim), (3, proj_dim), (6, 1)):
        state[f"head.{i}.weight"] = torch.randn(out, proj_dim) / proj_dim**0.5
        state[f"head.{i}.bias"] = torch.randn(out) * 0.1
    return state


def _rine_forward(
    tower: CLIPVisionModel, state: dict[str, torch.Tensor], nproj: int, x: torch.Tensor
) -> torch.Tensor:
    """RINE written out: each encoder layer by hand, keeping the CLS token of its second layer norm."""
    h = tower.pre_layrnorm(tower.embeddings(x))
    cls = []
    for layer in tower.encoder.layers:
        h = h + layer.self_attn(layer.layer_norm1(h))[0]
        normed = layer.layer_norm2(h)
        cls.append(normed[:, 0])
        h = h + layer.mlp(normed)
    g = torch.stack(cls, dim=1)

    def mlp(z: torch.Tensor, part: str) -> torch.Tensor:
        for i in range(nproj):
            z = torch.relu(z @ state[f"{part}.{1 + 3 * i}.weight"].T + state[f"{part}.{1 + 3 * i}.bias"])
        return z

    z = (torch.softmax(state["alpha"], dim=1) * mlp(g, "proj1")).sum(dim=1)
    z = mlp(z, "proj2")
    for i in (0, 3):
        z = torch.relu(z @ state[f"head.{i}.weight"].T + state[f"head.{i}.bias"])
    return z @ state["head.6.weight"].T + state["head.6.bias"]


def test_rine_trainable_parts_from_a_sidbench_bundle_on_a_frozen_clip(tmp_path: Path) -> None:
    torch.manual_seed(3)
    backbone = CLIPVisionModelWithProjection(CLIPVisionConfig(**TINY)).eval()
    backbone.save_pretrained(tmp_path / "clip")
    # A hub snapshot also holds pytorch_model.bin; transformers reads the safetensors, so only they count.
    torch.save(backbone.state_dict(), tmp_path / "clip" / "pytorch_model.bin")
    state = _rine_state(nproj=2, proj_dim=8)
    (tmp_path / "weights" / "rine").mkdir(parents=True)  # hf download dkarageo/sidbench --local-dir weights
    torch.save(state, tmp_path / "weights" / "rine" / "model_4class_trainable.pth")
    data = tmp_path / "images"
    paths = image_folder(data)
    args = f"bundle={tmp_path},name=4class,clip_path={tmp_path / 'clip'}"
    scores = run_expert(tmp_path, "rine", args, data)
    transform = transforms.Compose([transforms.CenterCrop(224), transforms.ToTensor(), CLIP_NORM])
    tower = backbone.vision_model
    assert_matches(
        scores, reference_scores(data, paths, transform, lambda x: _rine_forward(tower, state, 2, x))
    )
    settings = results_settings(tmp_path, "rine")
    assert (
        settings["preprocess"]
        == rine.SPEC.to_dict()
        == {
            "resize": None,
            "crop": ["center", 224],
            "norm": "clip",
            "interpolation": "bilinear",
            "pad": "zero",
        }
    )
    assert (settings["nproj"], settings["proj_dim"]) == (2, 8)
    assert set(settings["sha256"]) == {"model_4class_trainable.pth", "model.safetensors"}


def _effort_state(seed: int) -> tuple[dict[str, torch.Tensor], CLIPVisionModel, torch.nn.Linear]:
    """A DeepfakeBench-saved Effort state dict, and the plain tower and head it is equivalent to."""
    tower = _tower(seed)
    head = torch.nn.Linear(32, 2)
    state = {f"module.backbone.{k}": v for k, v in tower.state_dict().items()}
    for layer_index, layer in enumerate(tower.encoder.layers):
        for name in effort.ATTENTION:
            linear = getattr(layer.self_attn, name)
            prefix = f"module.backbone.encoder.layers.{layer_index}.self_attn.{name}"
            del state[f"{prefix}.weight"]
            u, s, vh = torch.linalg.svd(linear.weight.detach(), full_matrices=False)
            r = len(s) - 1
            s_res = s[r:] * 1.5  # a trained residual differs from the original component
            state |= {
                f"{prefix}.weight_main": u[:, :r] @ torch.diag(s[:r]) @ vh[:r],
                f"{prefix}.U_residual": u[:, r:],
                f"{prefix}.S_residual": s_res,
                f"{prefix}.V_residual": vh[r:],
                f"{prefix}.U_r": u[:, :r],
                f"{prefix}.S_r": s[:r],
                f"{prefix}.V_r": vh[:r],
            }
            with torch.no_grad():  # the equivalent plain weight
                linear.weight.copy_(state[f"{prefix}.weight_main"] + u[:, r:] @ torch.diag(s_res) @ vh[r:])
    state |= {"module.head.weight": head.weight.detach(), "module.head.bias": head.bias.detach()}
    return state, tower, head


def test_effort_deepfakebench_checkpoint_renamed_folded_and_resized_as_its_test_loader(
    tmp_path: Path,
) -> None:
    state, tower, head = _effort_state(4)
    torch.save(state, tmp_path / "effort_genimage_sdv14.pth")  # DeepfakeBench: torch.save(model.state_dict())
    data = tmp_path / "images"
    paths = image_folder(data)
    args = f"path={tmp_path / 'effort_genimage_sdv14.pth'},config={_config_file(tmp_path)}"
    scores = run_expert(tmp_path, "effort", args, data)

    def transform(
        image: object,
    ) -> torch.Tensor:  # cv2.resize((224, 224), INTER_CUBIC) on uint8, then CLIP norm
        x = transforms.functional.pil_to_tensor(image)[None].float()
        x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bicubic", align_corners=False)
        return CLIP_NORM(x[0].round().clamp(0, 255) / 255)

    def forward(x: torch.Tensor) -> torch.Tensor:
        logits = head(tower(pixel_values=x).pooler_output)
        return torch.logit(torch.softmax(logits, dim=1)[:, 1])

    assert_matches(scores, reference_scores(data, paths, transform, forward), atol=1e-4)
    assert results_settings(tmp_path, "effort")["preprocess"] == effort.spec("bicubic").to_dict()


@pytest.mark.parametrize("model", ["effort", "c2p-clip"])
def test_wrong_keys_and_shapes_exit_2_with_one_line(
    tmp_path: Path, model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "images"
    image_folder(data, sizes=((16, 16),))
    if model == "effort":
        state = _effort_state(5)[0]
    else:
        state = {f"model.vision_model.{k}": v for k, v in _tower(5).state_dict().items()}
        state |= {
            "model.visual_projection.weight": torch.zeros(16, 32),
            "model.fc.weight": torch.zeros(1, 16),
            "model.fc.bias": torch.zeros(1),
        }
    config = _config_file(tmp_path)
    broken = {k.replace("layer_norm1", "ln_1"): v for k, v in state.items()}
    torch.save(broken, tmp_path / "keys.pth")
    code, err = failed_run(tmp_path, model, f"path={tmp_path / 'keys.pth'},config={config}", data, capsys)
    assert code == 2 and f"keys do not match the {model} architecture" in err and "ln_1" in err
    assert len(err.strip().splitlines()) == 1
    head = "module.head.weight" if model == "effort" else "model.fc.weight"
    torch.save({**state, head: torch.zeros(3, state[head].shape[1])}, tmp_path / "shape.pth")
    code, err = failed_run(tmp_path, model, f"path={tmp_path / 'shape.pth'},config={config}", data, capsys)
    assert code == 2 and "has shape (3," in err and len(err.strip().splitlines()) == 1


def test_a_missing_checkpoint_names_where_the_authors_publish_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "images"
    image_folder(data, sizes=((16, 16),))
    code, err = failed_run(tmp_path, "rine", f"path={tmp_path / 'model_1class_trainable.pth'}", data, capsys)
    assert code == 2 and "rine checkpoint not found" in err and "github.com/mever-team/rine" in err


def test_the_run_key_follows_the_checkpoint_bytes_not_its_path(tmp_path: Path) -> None:
    def save(seed: int, path: Path) -> None:
        net = c2p_clip.C2PCLIPNet(CLIPVisionConfig(**TINY))
        torch.manual_seed(seed)
        for p in net.parameters():
            p.data.normal_()
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), path)

    config = str(_config_file(tmp_path))
    first, copy = tmp_path / "a" / "c2p.pth", tmp_path / "b" / "c2p.pth"
    save(0, first)
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    fingerprint = c2p_clip.C2PCLIP(path=str(first), config=config, device="cpu").fingerprint()
    assert c2p_clip.C2PCLIP(path=str(copy), config=config, device="cpu").fingerprint() == fingerprint
    save(1, first)  # other weights, same path and size
    assert c2p_clip.C2PCLIP(path=str(first), config=config, device="cpu").fingerprint() != fingerprint
