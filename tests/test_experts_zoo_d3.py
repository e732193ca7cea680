"""D³ loads its authors' head file (``attention_head.state_dict()``) and an OpenAI-layout CLIP through
``spotfake run`` and scores like the authors' forward rebuilt here: the CLIP image tower written out
functionally (its ``ln_post`` CLS token), their ``shuffle_patches`` with a per-sample seeded permutation,
``TransformerAttention`` on [shuffled, original]."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.nn import functional as F
from torchvision import transforms
from zoo_reference import (
    image_folder,
    openai_clip_state,
    openai_encode_image,
    randn,
    run_error,
    run_scores,
    run_settings,
    sha256_of,
)

from spotfake.adapters.experts import d3

SIZES = [(230, 231), (200, 250), (224, 224), (97, 300)]
WIDTH = 128
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def authors_transform(image: Image.Image) -> torch.Tensor:
    """``RealFakeDataset``'s test transform (``validate_for_robustness.py``)."""
    return transforms.Compose(
        [transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize(CLIP_MEAN, CLIP_STD)]
    )(image)


def permutation(seed: int, sample_id: str, count: int) -> torch.Tensor:
    """The documented per-sample permutation: ``randperm`` from a generator seeded by sha256(seed, id)."""
    digest = hashlib.sha256(f"{seed}\0{sample_id}".encode()).digest()
    gen = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & ((1 << 63) - 1))
    return torch.randperm(count, generator=gen)


def shuffle_patches(x: torch.Tensor, order: torch.Tensor, patch_size: int = 14) -> torch.Tensor:
    """Their ``shuffle_patches`` on a batch, with the permutation given."""
    _, _, height, width = x.size()
    patches = F.unfold(x, kernel_size=patch_size, stride=patch_size, dilation=1)
    return F.fold(
        patches[:, :, order], output_size=(height, width), kernel_size=patch_size, stride=patch_size
    )


def head_state(gen: torch.Generator, width: int = WIDTH) -> dict[str, torch.Tensor]:
    """``TransformerAttention(width, 2, last_dim=1).state_dict()``: the published ``classifier.pth``."""
    state = {}
    for name in ("query", "key", "value"):
        state |= {f"{name}.weight": randn(gen, width, width, scale=0.1), f"{name}.bias": randn(gen, width)}
    return state | {"fc.weight": randn(gen, 1, 2 * width, scale=0.05), "fc.bias": randn(gen, 1)}


def reference(clip: dict, head: dict, image: Image.Image, seed: int, sample_id: str) -> float:
    """``CLIPModelShuffleAttentionPenultimateLayer.forward``: the ``ln_post`` features (``proj`` replaced by
    the identity) of the shuffled then the original image, then ``TransformerAttention``."""
    tower = clip | {"visual.proj": torch.eye(WIDTH)}
    x = authors_transform(image)[None]
    with torch.no_grad():
        shuffled = shuffle_patches(x, permutation(seed, sample_id, 256))
        features = torch.stack([openai_encode_image(tower, shuffled), openai_encode_image(tower, x)], dim=-2)
        q, k, v = (
            F.linear(features, head[f"{n}.weight"], head[f"{n}.bias"]) for n in ("query", "key", "value")
        )
        attention = torch.softmax(torch.matmul(q, k.transpose(1, 2)) / torch.sqrt(torch.tensor(WIDTH)), dim=1)
        output = torch.matmul(attention, v).view([1, -1])
        return float(torch.sigmoid(F.linear(output, head["fc.weight"], head["fc.bias"]))[0, 0])


def write(tmp_path: Path, head: dict, clip: dict) -> tuple[Path, Path]:
    (tmp_path / "ckpt").mkdir(exist_ok=True)
    weights, backbone = tmp_path / "ckpt" / "classifier.pth", tmp_path / "ViT-L-14.pth"
    torch.save(head, weights)  # bare: their save_networks saves attention_head.state_dict()
    torch.save(clip, backbone)  # clip.load(...)[0].state_dict(), OpenAI's names
    return weights, backbone


def test_d3_scores_as_the_authors_forward_through_spotfake_run(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    clip, head = openai_clip_state(gen, width=WIDTH), head_state(gen)
    weights, backbone = write(tmp_path, head, clip)
    images = image_folder(tmp_path / "data", SIZES)
    args = f"path={weights},clip_path={backbone},seed=7,device=cpu"
    scores = run_scores(tmp_path, "d3", args, tmp_path / "data")
    for name, image in images.items():
        assert scores[name] == pytest.approx(reference(clip, head, image, 7, name), abs=1e-5)
        assert scores[name] != pytest.approx(reference(clip, head, image, 8, name), abs=1e-5)
    settings = run_settings(tmp_path)
    assert settings["preprocess"] == {
        "resize": ["square", 224],
        "crop": None,
        "norm": "clip",
        "interpolation": "bilinear",
        "backend": "pil",
    }
    assert settings["seed"] == 7 and settings["shuffle"].startswith("14x14 tiles")
    assert settings["clip"]["hidden_size"] == WIDTH and settings["clip"]["image_size"] == 224
    assert settings["sha256"] == {"classifier.pth": sha256_of(weights), "ViT-L-14.pth": sha256_of(backbone)}


def test_the_shuffle_is_seeded_per_sample() -> None:
    x = torch.arange(3 * 224 * 224, dtype=torch.float32).reshape(3, 224, 224)
    first = d3.shuffle_tiles(x, 14, d3.sample_generator(0, "1_fake/a.png"))
    assert torch.equal(first, d3.shuffle_tiles(x, 14, d3.sample_generator(0, "1_fake/a.png")))
    assert not torch.equal(first, d3.shuffle_tiles(x, 14, d3.sample_generator(0, "1_fake/b.png")))
    assert not torch.equal(first, d3.shuffle_tiles(x, 14, d3.sample_generator(1, "1_fake/a.png")))
    assert torch.equal(torch.sort(first.flatten()).values, x.flatten())  # a permutation of the tiles


@pytest.mark.parametrize(
    ("edit_head", "edit_clip", "needle"),
    [
        (lambda s: {k.replace("query.", "q."): v for k, v in s.items()}, None, "query.weight"),
        (lambda s: {**s, "fc.weight": torch.zeros(1, 2 * WIDTH + 1)}, None, "fc.weight"),
        (None, lambda s: {k.replace("ln_post", "ln_last"): v for k, v in s.items()}, "ln_last"),
    ],
    ids=["wrong-head-key", "wrong-head-shape", "wrong-clip-key"],
)
def test_d3_wrong_checkpoint_is_one_line_and_exit_2(
    tmp_path: Path, capsys, edit_head, edit_clip, needle
) -> None:
    gen = torch.Generator().manual_seed(0)
    clip, head = openai_clip_state(gen, width=WIDTH), head_state(gen)
    weights, backbone = write(tmp_path, (edit_head or dict)(head), (edit_clip or dict)(clip))
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("d3", f"path={weights},clip_path={backbone},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_d3_missing_files_name_where_they_are_published(tmp_path: Path, capsys) -> None:
    image_folder(tmp_path / "data", SIZES[:2])
    code, err = run_error("d3", f"path={tmp_path / 'classifier.pth'},device=cpu", tmp_path / "data", capsys)
    assert code == 2 and "BigAandSmallq/D3" in err and len(err.strip().splitlines()) == 1


def test_the_published_head_layout() -> None:
    shapes = {k: tuple(v.shape) for k, v in d3.D3Head(1024).state_dict().items()}
    assert shapes == {
        "query.weight": (1024, 1024),
        "query.bias": (1024,),
        "key.weight": (1024, 1024),
        "key.bias": (1024,),
        "value.weight": (1024, 1024),
        "value.bias": (1024,),
        "fc.weight": (1, 2048),
        "fc.bias": (1,),
    }
