"""LGrad's full pipeline (``preprocessor=<StyleGAN discriminator>``): the discriminator file in the authors'
layout (genforce's key names, a bare state dict) loads strictly, each image becomes the gradient map the
authors' ``gen_imggrad.py`` would have saved (checked against a forward and gradient written here from
their code, and against finite differences), and ``spotfake run`` scores those maps with the classifier."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_experts_zoo_maps import resnet_authors
from torch.nn import functional as F
from zoo_reference import image_folder, imagenet_tensor, run_error, run_scores, run_settings, sha256_of

from spotfake.adapters.experts.lgrad_gradients import build_mapper, input_gradient
from spotfake.adapters.experts.stylegan_discriminator import StyleGANDiscriminator, load_discriminator

TINY = {"resolution": 128, "fmaps_base": 256, "fmaps_max": 8}
"""128 keeps both ways of halving (a strided 4x4 kernel at 128, conv + average pool below); 2 to 8 maps."""


def nf(res: int, base: int, top: int) -> int:
    return min(base // res, top)


def authors_shapes(resolution: int, base: int = 16384, top: int = 512) -> dict[str, tuple[int, ...]]:
    """The state-dict keys and shapes of genforce's ``StyleGANDiscriminator(resolution)`` (label_size 0),
    written out from ``models/stylegan_discriminator.py``."""
    shapes: dict[str, tuple[int, ...]] = {"lod": ()}
    blocks = int(math.log2(resolution)) - 1
    for block in range(blocks):
        res = resolution >> block
        c = nf(res, base, top)
        shapes |= {f"input{block}.weight": (c, 3, 1, 1), f"input{block}.bias": (c,)}
        if res > 4:
            down = nf(res // 2, base, top)
            shapes |= {f"layer{2 * block}.weight": (c, c, 3, 3), f"layer{2 * block}.bias": (c,)}
            shapes |= {f"layer{2 * block + 1}.weight": (down, c, 3, 3), f"layer{2 * block + 1}.bias": (down,)}
            shapes[f"layer{2 * block + 1}.blur.kernel"] = (c, 1, 3, 3)
        else:
            last = nf(2, base, top)
            shapes |= {f"layer{2 * block}.weight": (c, c + 1, 3, 3), f"layer{2 * block}.bias": (c,)}
            shapes |= {f"layer{2 * block + 1}.weight": (last, c * 16), f"layer{2 * block + 1}.bias": (last,)}
    shapes |= {f"layer{2 * blocks}.weight": (1, nf(2, base, top)), f"layer{2 * blocks}.bias": (1,)}
    return shapes


def authors_state(seed: int, config: dict[str, int] = TINY) -> dict[str, torch.Tensor]:
    """Random weights in that layout (unit-variance weights as the equalised learning rate stores them),
    the normalised [1, 2, 1] blur kernels, lod 0."""
    gen = torch.Generator().manual_seed(seed)
    taps = torch.tensor([1.0, 2.0, 1.0])
    blur = torch.outer(taps, taps) / 16
    state = {}
    for key, shape in authors_shapes(config["resolution"], config["fmaps_base"], config["fmaps_max"]).items():
        if key == "lod":
            state[key] = torch.zeros(())
        elif key.endswith("blur.kernel"):
            state[key] = blur.repeat(shape[0], 1, 1, 1)
        else:
            state[key] = torch.randn(shape, generator=gen) * (1.0 if key.endswith("weight") else 0.1)
    return state


def save_discriminator(path: Path, state: dict[str, torch.Tensor], config: dict[str, int] = TINY) -> Path:
    """As the authors' file is: ``torch.save(state_dict)``; the scaled-down config in ``<stem>.json``."""
    torch.save(state, path)
    path.with_suffix(".json").write_text(json.dumps(config))
    return path


# -- the authors' computation, written here -----------------------------------------------------------------


def authors_logit(
    state: dict[str, torch.Tensor], x: torch.Tensor, resolution: int, lod: float = 0.0
) -> torch.Tensor:
    """Their forward for one image: the block at ``lod`` reads the image (halved ``lod`` times), faded
    with the block before it at a fractional lod. The strided "fused" conv is written as what it equals,
    a 3x3 conv then a 2x2 mean; the minibatch-std channel of a single image is sqrt(1e-8)."""

    def conv(h: torch.Tensor, name: str, pad: int) -> torch.Tensor:
        w = state[f"{name}.weight"]
        return F.conv2d(h, w * math.sqrt(2) / math.sqrt(w[0].numel()), state[f"{name}.bias"], padding=pad)

    def from_rgb(image: torch.Tensor, block: int) -> torch.Tensor:
        return F.leaky_relu(conv(image, f"input{block}", 0), 0.2)

    h = torch.zeros(())
    blocks = int(math.log2(resolution)) - 1
    for block in range(blocks):
        if block == math.floor(lod):
            h = from_rgb(x, block)
        elif block == math.ceil(lod):
            fade = lod - math.floor(lod)
            h = fade * from_rgb(x, block) + (1 - fade) * h
        if block < math.floor(lod):
            x = F.avg_pool2d(x, 2)
            continue
        if block == math.floor(lod) and lod > block:
            x = F.avg_pool2d(x, 2)
        a, b = f"layer{2 * block}", f"layer{2 * block + 1}"
        if resolution >> block > 4:
            h = F.leaky_relu(conv(h, a, 1), 0.2)
            kernel = state[f"{b}.blur.kernel"]
            h = F.conv2d(h, kernel, padding=1, groups=h.shape[1])
            h = F.leaky_relu(F.avg_pool2d(conv(h, b, 1), 2), 0.2)
        else:
            h = torch.cat([h, torch.full_like(h[:, :1], math.sqrt(1e-8))], dim=1)
            h = F.leaky_relu(conv(h, a, 1), 0.2)
            w = state[f"{b}.weight"]
            h = F.leaky_relu(
                F.linear(h.flatten(1), w * math.sqrt(2) / math.sqrt(w.shape[1]), state[f"{b}.bias"]), 0.2
            )
    w = state[f"layer{2 * blocks}.weight"]
    return F.linear(h, w / math.sqrt(w.shape[1]), state[f"layer{2 * blocks}.bias"])


def authors_input(image: Image.Image, resolution: int) -> torch.Tensor:
    """Resize((R, R)) (PIL bilinear), ToTensor, Normalize(0.5, 0.5): (1, 3, R, R)."""
    array = np.asarray(
        image.convert("RGB").resize((resolution, resolution), Image.Resampling.BILINEAR), dtype=np.float32
    )
    return ((torch.from_numpy(array / np.float32(255.0)) - 0.5) / 0.5).permute(2, 0, 1)[None]


def authors_map(grad: torch.Tensor) -> np.ndarray:
    """``normlize_np`` on the HWC gradient in float32, then cv2's conversion to 8 bits (round half to even)."""
    img = grad[0].permute(1, 2, 0).to(torch.float32).numpy().copy()
    img -= img.min()
    if img.max() != 0:
        img /= img.max()
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def authors_gradient(state: dict[str, torch.Tensor], x: torch.Tensor, resolution: int) -> torch.Tensor:
    """d(sum of logits)/dx by ``torch.autograd.functional.vjp`` over the forward above, in float64."""
    double = {k: v.double() for k, v in state.items()}
    _, grad = torch.autograd.functional.vjp(lambda t: authors_logit(double, t, resolution).sum(), x.double())
    return grad


# -- tests ----------------------------------------------------------------------------------------------------


def test_the_tiny_discriminator_has_the_authors_keys_and_loads_strictly(tmp_path: Path) -> None:
    file = save_discriminator(tmp_path / "d.pth", authors_state(seed=0))
    network = load_discriminator(file)
    assert {k: tuple(v.shape) for k, v in network.state_dict().items()} == authors_shapes(128, 256, 8)
    assert not any(p.requires_grad for p in network.parameters())


def test_the_map_is_the_authors_gradient_map(tmp_path: Path) -> None:
    state = authors_state(seed=1)
    file = save_discriminator(tmp_path / "karras2019stylegan-bedrooms-256x256_discriminator.pth", state)
    mapper = build_mapper(file, "cpu")
    rng = np.random.default_rng(3)
    for size in ((150, 190), (128, 128), (97, 61)):
        image = Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        x = authors_input(image, 128)
        expected = authors_gradient(state, x, 128)
        got = input_gradient(mapper.network, x)
        scale = float(expected.abs().max())
        assert scale > 0 and float((got.double() - expected).abs().max()) < 1e-4 * scale
        made = np.asarray(mapper(image))
        reference = authors_map(expected)
        assert made.shape == (128, 128, 3) and made.dtype == np.uint8
        assert int(np.abs(made.astype(int) - reference).max()) <= 1
        assert float((made == reference).mean()) > 0.99
        assert made.min() == 0 and made.max() == 255


def test_the_gradient_matches_finite_differences() -> None:
    network = StyleGANDiscriminator(resolution=16, fmaps_base=32, fmaps_max=4).double()
    network.load_state_dict(
        {
            k: v.double()
            for k, v in authors_state(5, {"resolution": 16, "fmaps_base": 32, "fmaps_max": 4}).items()
        }
    )
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 2 - 1
    grad = input_gradient(network, x)
    eps = 1e-6
    for flat in (0, 77, 300, 767):
        step = torch.zeros_like(x).reshape(-1)
        step[flat] = eps
        step = step.reshape(x.shape)
        with torch.no_grad():
            numeric = (network(x + step).sum() - network(x - step).sum()) / (2 * eps)
        assert float(grad.reshape(-1)[flat]) == pytest.approx(float(numeric), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("lod", [0.0, 0.5, 1.0, 2.25])
def test_the_level_of_detail_in_the_file_picks_the_input_block(tmp_path: Path, lod: float) -> None:
    state = {**authors_state(seed=2), "lod": torch.tensor(lod)}
    network = load_discriminator(save_discriminator(tmp_path / "d.pth", state))
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        got, expected = network(x), authors_logit(state, x, 128, lod)
    assert float(got) == pytest.approx(float(expected), rel=1e-4, abs=1e-5)
    assert (float(got) != pytest.approx(float(authors_logit(state, x, 128, 0.0)), abs=1e-3)) == (lod != 0)


def test_spotfake_run_scores_the_maps_the_mapper_makes(tmp_path: Path) -> None:
    net = resnet_authors(seed=2)
    with torch.no_grad():  # min-max maps all span 0..255: a larger head keeps their scores apart
        net.fc.weight.mul_(8)
    classifier = tmp_path / "LGrad-4class-Trainon-Progan_car_cat_chair_horse.pth"
    torch.save(net.state_dict(), classifier)
    classifier.with_suffix(".json").write_text(json.dumps({"layers": [1, 1, 1, 1]}))
    disc = save_discriminator(
        tmp_path / "karras2019stylegan-bedrooms-256x256_discriminator.pth", authors_state(7)
    )
    images = image_folder(tmp_path / "data", [(150, 170), (128, 128), (96, 140), (128, 128)])
    scores = run_scores(tmp_path, "lgrad", f"path={classifier},preprocessor={disc}", tmp_path / "data")
    mapper = build_mapper(disc, "cpu")
    for rel, image in images.items():
        with torch.no_grad():
            expected = float(torch.sigmoid(net(imagenet_tensor(mapper(image))))[0, 0])
        assert scores[rel] == pytest.approx(expected, abs=1e-5)
    settings = run_settings(tmp_path)
    assert settings["input"] == "maps computed here (preprocessor=)"
    assert settings["preprocessor"]["resolution"] == 128 and settings["preprocessor"]["lod"] == 0.0
    assert settings["sha256"] == {classifier.name: sha256_of(classifier), disc.name: sha256_of(disc)}


class Payload:
    def __reduce__(self):  # pragma: no cover - never called: the loader refuses before unpickling it
        return (os.getcwd, ())


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: {k.replace("layer0.", "layer00."): v for k, v in s.items()}, "layer00.weight"),
        (lambda s: {**s, "layer14.weight": torch.zeros(1, 9)}, "layer14.weight"),
        (lambda s: {"discriminator": s, "payload": Payload()}, "refusing"),
    ],
    ids=["wrong-key", "wrong-shape", "pickle"],
)
def test_a_wrong_discriminator_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, needle: str) -> None:
    classifier = tmp_path / "LGrad.pth"
    torch.save(resnet_authors(seed=3).state_dict(), classifier)
    classifier.with_suffix(".json").write_text(json.dumps({"layers": [1, 1, 1, 1]}))
    disc = save_discriminator(tmp_path / "d.pth", edit(authors_state(seed=4)))
    image_folder(tmp_path / "data", [(64, 64), (64, 64)])
    code, err = run_error("lgrad", f"path={classifier},preprocessor={disc}", tmp_path / "data", capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_a_missing_discriminator_names_the_file_and_where_it_is_published(tmp_path: Path, capsys) -> None:
    classifier = tmp_path / "LGrad.pth"
    torch.save(resnet_authors(seed=3).state_dict(), classifier)
    classifier.with_suffix(".json").write_text(json.dumps({"layers": [1, 1, 1, 1]}))
    image_folder(tmp_path / "data", [(64, 64), (64, 64)])
    absent = tmp_path / "karras2019stylegan-bedrooms-256x256_discriminator.pth"
    code, err = run_error("lgrad", f"path={classifier},preprocessor={absent}", tmp_path / "data", capsys)
    assert code == 2 and str(absent) in err and "img2gad_pytorch/README.md" in err
    assert len(err.strip().splitlines()) == 1


def test_genforce_converter_output_loads_too(tmp_path: Path) -> None:
    state = authors_state(seed=6)
    full = {
        "generator": {"w": torch.zeros(1)},
        "discriminator": state,
        "generator_smooth": {"w": torch.zeros(1)},
    }
    file = save_discriminator(tmp_path / "stylegan_bedroom256.pth", full)  # type: ignore[arg-type]
    assert torch.equal(load_discriminator(file).state_dict()["layer0.weight"], state["layer0.weight"])


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SPOTFAKE_REAL_SIZE") != "1", reason="set SPOTFAKE_REAL_SIZE=1 (real size)"
)
def test_the_real_256_discriminator_has_the_published_keys_and_shapes(tmp_path: Path) -> None:
    """The authors' config (no JSON beside the file): 23M parameters, 51 entries, a 256 x 256 map."""
    shapes = authors_shapes(256)
    state = {k: torch.randn(s) if s else torch.zeros(()) for k, s in shapes.items()}
    file = tmp_path / "karras2019stylegan-bedrooms-256x256_discriminator.pth"
    torch.save(state, file)
    network = load_discriminator(file)
    assert {k: tuple(v.shape) for k, v in network.state_dict().items()} == shapes
    assert (
        len(shapes) == 51
        and shapes["layer12.weight"] == (512, 513, 3, 3)
        and shapes["layer13.weight"] == (512, 8192)
    )
    made = build_mapper(file, "cpu")(Image.new("RGB", (300, 200), (120, 60, 30)))
    assert made.size == (256, 256) and made.mode == "RGB"
