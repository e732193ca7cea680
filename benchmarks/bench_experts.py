"""Images/s and peak RSS of the authors'-checkpoint experts on CPU, at their real input size and real
architecture size (random weights, saved in each authors' checkpoint layout), against a bare forward of
the same module.

For each expert, in a fresh subprocess (so the peak RSS is its own): write a random checkpoint in the
authors' layout (and a random backbone where the expert needs one), build the adapter through
``build_model`` (strict loading, sha256 of every file), then time

- the adapter path: ``model.predict`` over N decoded RGB images (preprocessing from PIL, bucketing by
  shape, batching, sigmoid, responses);
- the bare forward: the same ``model.network`` on the already preprocessed tensors, in the same batches;

batch by batch, alternating which goes first, so that the load of a shared machine weighs on both alike.
Both wall time and this process's CPU time are recorded: on a shared machine the CPU-time ratio is the
steadier measure of the adapter's overhead.

    OMP_NUM_THREADS=2 python benchmarks/bench_experts.py                   # all experts, 64 images each (74 min on 2 CPUs)
    python benchmarks/bench_experts.py --only rine,dda --n 8 --out /tmp/e.json
    python benchmarks/bench_experts.py --only npr --n 64 --malloc default --out /tmp/e.json  # glibc's own

Both paths run with glibc's malloc thresholds fixed as ``spotfake run`` fixes them
(``spotfake.harness.allocator``); ``--malloc default`` leaves glibc's, to see what that is worth.

Writes ``benchmarks/results/experts.json``. Random weights do not change the cost of a forward. The map
experts lgrad and dire read random precomputed maps (``maps=``): their figures leave out the
pre-processors. lgrad-full and dire-full compute the maps themselves (``preprocessor=``: a random StyleGAN
discriminator at 256, a random ADM 256x256 with 20 DDIM steps each way); their bare path runs the same
pre-processor work on the already prepared input tensors, one image at a time as the authors do (the
discriminator's input gradient; DDIM inversion, reconstruction and ``|x - recon|``), then the classifier
on the already prepared map tensors. dire-full takes minutes per image on a CPU (the real ADM has
552,814,086 parameters, a 2.2 GB file), so "all experts" leaves it out; run it alone:

    OMP_NUM_THREADS=2 python benchmarks/bench_experts.py --only dire-full --n 4 --batch-size 4

(``BENCH_ADM_CONFIG='{"image_size": 32, ...}'`` overrides keys of the ADM config, written beside its
weights as ``<stem>.json``: a scaled-down ADM to check the code path quickly, not a measurement.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "experts.json"


def _save(state: dict[str, Any], path: Path) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def build_c2p(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.c2p_clip import C2PCLIPNet
    from spotfake.adapters.experts.clip_vision import vision_config

    return {"path": str(_save(C2PCLIPNet(vision_config(None)).state_dict(), tmp / "C2P_CLIP_release.pth"))}


def _clip_folder(tmp: Path) -> Path:
    from transformers import CLIPVisionModelWithProjection

    from spotfake.adapters.experts.clip_vision import vision_config

    CLIPVisionModelWithProjection(vision_config(None)).save_pretrained(tmp / "clip-vit-large-patch14")
    return tmp / "clip-vit-large-patch14"


def build_rine(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.rine import RineHead

    head = RineHead(blocks=24, width_in=1024, nproj=4, proj_dim=1024)  # the 1-class sizes
    return {
        "path": str(_save(head.state_dict(), tmp / "model_1class_trainable.pth")),
        "clip_path": str(_clip_folder(tmp)),
    }


def build_d3(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.d3 import D3Head

    return {
        "path": str(_save(D3Head(1024).state_dict(), tmp / "ckpt" / "classifier.pth")),
        "clip_path": str(_clip_folder(tmp)),
    }


def build_fatformer(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.fatformer import DEFAULT_CONFIG, build_network

    # the whole CLIPModel.state_dict() under "model", aliases included, as their main.py loads it
    state = build_network(dict(DEFAULT_CONFIG)).state_dict()
    return {"path": str(_save({"model": state}, tmp / "fatformer_4class.pth"))}


def build_effort(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.clip_vision import vision_config
    from spotfake.adapters.experts.effort import EffortNet

    state = EffortNet(vision_config(None)).with_svd_layers().state_dict()
    renamed = {
        "module." + k.replace("model.vision_model.", "backbone.", 1).replace("fc.", "head.", 1): v
        for k, v in state.items()
    }
    return {"path": str(_save(renamed, tmp / "effort_clip_L14_genimage.pth"))}


def build_dda(tmp: Path) -> dict[str, str]:
    import torch

    from spotfake.adapters.experts.dda import VIT_L14, DDANet

    authors = {}
    for key, value in DDANet(VIT_L14).state_dict().items():
        key = "base_model.model." + key[len("vit.") :] if key.startswith("vit.") else "base_model." + key
        key = key.replace(".base_layer.", ".original_layer.").replace(
            ".lora_A.default.weight", ".lora.lora_A"
        )
        authors[key.replace(".lora_B.default.weight", ".lora.lora_B")] = value
    authors["base_model.model.pos_embed"] = torch.randn(1, 1 + 37 * 37, 1024) * 0.02  # DINOv2's 518 grid
    authors["base_model.model.mask_token"] = torch.zeros(1, 1024)
    return {"path": str(_save({"model": authors}, tmp / "ckpt.pth"))}


def _grip(tmp: Path, name: str, arch: str, norm: str, patch: str | None, state: dict[str, Any]) -> Path:
    import yaml

    folder = tmp / name
    _save({"model": state}, folder / "weights.pth")
    config = {
        "arch": arch,
        "model_name": name,
        "norm_type": norm,
        "patch_size": patch,
        "weights_file": "weights.pth",
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


def build_corvi(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.grip import res50nodown

    return {"path": str(_grip(tmp, "Corvi2023", "res50nodown", "resnet", None, res50nodown().state_dict()))}


def build_clipdet(tmp: Path) -> dict[str, str]:
    import open_clip
    import torch
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    config = dict(open_clip.get_model_config("ViT-L-14"))
    clip = CLIP(embed_dim=config["embed_dim"], vision_cfg=config["vision_cfg"], text_cfg=config["text_cfg"])
    (tmp / "commonpool").mkdir()
    save_file(
        {k: v.contiguous() for k, v in clip.state_dict().items()},
        str(tmp / "commonpool" / "open_clip_model.safetensors"),
    )
    fc = torch.nn.Linear(1024, 1).state_dict()
    folder = _grip(
        tmp,
        "clipdet_latent10k_plus",
        "opencliplinearnext_clipL14commonpool",
        "clip",
        "Clip224",
        {f"fc.{k}": v for k, v in fc.items()},
    )
    return {"path": str(folder), "clip_path": str(tmp / "commonpool")}


def build_cnnspot(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.cnnspot import DEFAULT_CONFIG, build_network

    # CNNDetection's trainer saves {"model": state, "optimizer": ..., "total_steps": ...}
    state = build_network(dict(DEFAULT_CONFIG)).state_dict()
    return {"path": str(_save({"model": state, "total_steps": 0}, tmp / "blur_jpg_prob0.5.pth"))}


def build_npr(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.npr import DEFAULT_CONFIG, build_network

    return {"path": str(_save(build_network(dict(DEFAULT_CONFIG)).state_dict(), tmp / "NPR.pth"))}


def build_aligned(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.grip import res50nodown

    # a bare weights file: run as GRIP's res50nodown configs run it (whole image, imagenet norm)
    return {"path": str(_save({"model": res50nodown().state_dict()}, tmp / "aligned_forensics.pth"))}


def build_freqnet(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.freqnet import DEFAULT_CONFIG, build_network

    return {"path": str(_save(build_network(dict(DEFAULT_CONFIG)).state_dict(), tmp / "freqnet.pth"))}


def build_safe(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.safe import DEFAULT_CONFIG, build_network

    state = build_network(dict(DEFAULT_CONFIG)).state_dict()  # as their utils.save_model: under "model"
    return {"path": str(_save({"model": state, "epoch": "best"}, tmp / "checkpoint-best.pth"))}


def build_drct_convnext(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.drct import CONVNEXT_CONFIG, DRCTConvNeXtNet

    network = DRCTConvNeXtNet(CONVNEXT_CONFIG["backbone"], CONVNEXT_CONFIG["embedding_size"], {})
    # bare, as their train.py saves it
    return {"path": str(_save(network.state_dict(), tmp / "14_acc0.9996.pth"))}


def build_commfor(tmp: Path) -> dict[str, str]:
    from safetensors.torch import save_file

    from spotfake.adapters.experts.commfor import DEFAULT_CONFIG, CommForNet

    # what PyTorchModelHubMixin.save_pretrained writes for commfor-model-384
    folder = tmp / "commfor-model-384"
    folder.mkdir()
    state = CommForNet(dict(DEFAULT_CONFIG)).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    hub = {"model_size": "small", "input_size": 384, "patch_size": 16, "freeze_backbone": False}
    (folder / "config.json").write_text(json.dumps(hub | {"device": "cuda"}))
    return {"path": str(folder)}


def build_univfd(tmp: Path) -> dict[str, str]:
    import torch

    fc = torch.nn.Linear(768, 1)  # their fc_weights.pth: the bare head {weight, bias}
    return {
        "path": str(_save(fc.state_dict(), tmp / "fc_weights.pth")),
        "clip_path": str(_clip_folder(tmp)),
    }


def build_drct_clip(tmp: Path) -> dict[str, str]:
    import open_clip
    import torch
    from open_clip.model import CLIP

    # ContrastiveModels('clip-ViT-L-14'): OpenAI's CLIP (open_clip keeps its key layout) as model.model,
    # its fc (768 -> 1024) as model.fc, then fc (1024 -> 2)
    config = dict(open_clip.get_model_config("ViT-L-14"))
    clip = CLIP(
        embed_dim=config["embed_dim"],
        vision_cfg=config["vision_cfg"],
        text_cfg=config["text_cfg"],
        quick_gelu=True,
    )
    state = {f"model.model.{k}": v for k, v in clip.state_dict().items()}
    embed, head = torch.nn.Linear(768, 1024), torch.nn.Linear(1024, 2)
    state |= {f"model.fc.{k}": v for k, v in embed.state_dict().items()}
    state |= {f"fc.{k}": v for k, v in head.state_dict().items()}
    return {"path": str(_save(state, tmp / "13_acc0.9664.pth"))}


MAPS = 64
"""Map experts read a map per sample id (``b0.png`` ...) under ``maps=``: at most this many images."""


def _maps(tmp: Path, side: int) -> Path:
    """Random ``side`` x ``side`` map PNGs ``b0.png`` ... named as the benchmark's sample ids."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    (tmp / "maps").mkdir()
    for index in range(MAPS):
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp / "maps" / f"b{index}.png")
    return tmp / "maps"


def _cnndetection_resnet50() -> dict[str, Any]:
    from torchvision.models.resnet import Bottleneck, ResNet

    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=1).state_dict()


def build_lgrad(tmp: Path) -> dict[str, str]:
    # a bare state dict; gen_imggrad.py writes 256 x 256 gradient maps
    weights = _save(_cnndetection_resnet50(), tmp / "LGrad-4class-Trainon-Progan_car_cat_chair_horse.pth")
    return {"path": str(weights), "maps": str(_maps(tmp, 256))}


def build_dire(tmp: Path) -> dict[str, str]:
    # CNNDetection's trainer layout, under "model"; compute_dire.sh writes maps at the ADM's 256 x 256
    weights = _save({"model": _cnndetection_resnet50(), "total_steps": 0}, tmp / "lsun_adm.pth")
    return {"path": str(weights), "maps": str(_maps(tmp, 256))}


def build_lgrad_full(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.stylegan_discriminator import StyleGANDiscriminator

    # gen_imggrad.py loads a bare state dict of genforce's discriminator at 256
    discriminator = _save(
        StyleGANDiscriminator(resolution=256).state_dict(),
        tmp / "karras2019stylegan-bedrooms-256x256_discriminator.pth",
    )
    weights = _save(_cnndetection_resnet50(), tmp / "LGrad-4class-Trainon-Progan_car_cat_chair_horse.pth")
    return {"path": str(weights), "preprocessor": str(discriminator)}


def build_dire_full(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.adm_unet import ADMUNet
    from spotfake.adapters.experts.dire_reconstruction import ADM_DEFAULTS

    # guided-diffusion's release is a bare state dict; BENCH_ADM_CONFIG (JSON) scales it down for a check
    override = json.loads(os.environ.get("BENCH_ADM_CONFIG", "{}"))
    adm = _save(ADMUNet({**ADM_DEFAULTS, **override}).state_dict(), tmp / "256x256_diffusion_uncond.pt")
    if override:
        adm.with_suffix(".json").write_text(json.dumps(override))
    weights = _save({"model": _cnndetection_resnet50(), "total_steps": 0}, tmp / "lsun_adm.pth")
    return {"path": str(weights), "preprocessor": str(adm)}


def build_bfree(tmp: Path) -> dict[str, str]:
    import timm
    import yaml

    arch = "timm_c5i504_vit_base_patch14_reg4_dinov2"
    vit = timm.create_model(arch.split("_", 2)[2], pretrained=False, num_classes=1, img_size=504)
    folder = tmp / "BFREE_dino2reg4"
    _save({"model": vit.state_dict()}, folder / "model_epoch_best.pth")  # their load_weights reads "model"
    config = {
        "model_name": "BFREE_dino2reg4",
        "arch": arch,
        "norm_type": "resnet",
        "weights_file": "model_epoch_best.pth",
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return {"path": str(folder)}


def build_aide(tmp: Path) -> dict[str, str]:
    from spotfake.adapters.experts.aide import DEFAULT_CONFIG, AIDENet

    # as their utils.save_model: the state dict under "model" beside the training state
    state = AIDENet(dict(DEFAULT_CONFIG)).state_dict()
    return {"path": str(_save({"model": state, "epoch": "best", "scaler": {}}, tmp / "checkpoint-best.pth"))}


BareForward = Callable[[int, int], None]
"""Runs the bare path on images ``start:stop``."""


def bare_network(model: Any, images: list[Any]) -> BareForward:
    """``model.network`` on the images' tensors, preprocessed here, before any timing."""
    import torch

    tensors = [model.preprocess(img) for img in images]

    def run(start: int, stop: int) -> None:
        with torch.inference_mode():
            model.network(torch.stack(tensors[start:stop]))

    return run


def bare_with_preprocessor(
    prepare: Callable[[Any, Any], Any], work: Callable[[Any, Any], object]
) -> Callable[[Any, list[Any]], BareForward]:
    """A bare path for an expert built with ``preprocessor=``: ``work(mapper, x)`` on each image's input
    tensor ``x = prepare(mapper, image)``, one image at a time, then the classifier on the map tensors;
    the input tensors, the maps and the map tensors are all made before any timing."""

    def bare(model: Any, images: list[Any]) -> BareForward:
        mapper = model.make_map
        inputs = [prepare(mapper, img) for img in images]
        classify = bare_network(model, [mapper(img) for img in images])

        def run(start: int, stop: int) -> None:
            for x in inputs[start:stop]:
                work(mapper, x)
            classify(start, stop)

        return run

    return bare


def _lgrad_input(mapper: Any, image: Any) -> Any:
    from spotfake.adapters.experts.lgrad_gradients import input_tensor

    return input_tensor(image, mapper.resolution).unsqueeze(0).to(mapper.device)


def _lgrad_work(mapper: Any, x: Any) -> Any:
    from spotfake.adapters.experts.lgrad_gradients import input_gradient

    return input_gradient(mapper.network, x)


def _dire_input(mapper: Any, image: Any) -> Any:
    import numpy as np
    import torch

    from spotfake.adapters.experts.dire_reconstruction import center_crop_arr

    arr = center_crop_arr(image.convert("RGB"), mapper.size).astype(np.float32) / 127.5 - 1
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(mapper.device)


def _dire_work(mapper: Any, x: Any) -> Any:
    import torch

    with torch.inference_mode():
        recon = mapper.schedule.reconstruct(mapper.unet, mapper.schedule.invert(mapper.unet, x))
        return torch.abs(x - recon)


class Pipeline(NamedTuple):
    """A benchmarked model: what to build and how to time its bare path."""

    model: str
    """The registered model name."""
    builder: Callable[[Path], dict[str, str]]
    """Writes the random checkpoint(s) and returns the model arguments."""
    side: int
    """Side of the square test images: larger than the crop, as real data is."""
    bare: Callable[[Any, list[Any]], BareForward] = bare_network


EXPERTS: dict[str, tuple[Callable[[Path], dict[str, str]], int]] = {
    # name: (checkpoint builder, side of the square test images: larger than the crop, as real data is)
    "c2p-clip": (build_c2p, 256),
    "rine": (build_rine, 256),
    "effort": (build_effort, 256),
    "dda": (build_dda, 384),
    "clipdet": (build_clipdet, 256),
    "corvi2023": (build_corvi, 256),
    "d3": (build_d3, 256),
    "fatformer": (build_fatformer, 256),
    "cnnspot": (build_cnnspot, 256),
    "npr": (build_npr, 256),
    "aligned-forensics": (build_aligned, 256),
    "freqnet": (build_freqnet, 256),
    "safe": (build_safe, 256),
    "drct-convnext": (build_drct_convnext, 256),
    "commfor": (build_commfor, 512),
    "univfd": (build_univfd, 256),
    "drct-clip": (build_drct_clip, 256),
    "lgrad": (build_lgrad, 256),
    "dire": (build_dire, 256),
    "bfree": (build_bfree, 512),
    "aide": (build_aide, 256),
}
FULL_PIPELINES: dict[str, Pipeline] = {
    # the map experts computing their maps (preprocessor=) rather than reading them (maps=)
    "lgrad-full": Pipeline("lgrad", build_lgrad_full, 256, bare_with_preprocessor(_lgrad_input, _lgrad_work)),
    "dire-full": Pipeline("dire", build_dire_full, 256, bare_with_preprocessor(_dire_input, _dire_work)),
}
ON_REQUEST = {"dire-full"}
"""Left out of the default run (minutes per image on a CPU): named with ``--only``."""


def pipeline(name: str) -> Pipeline:
    """The benchmark entry ``name``: a full pipeline, or an expert with the plain bare forward."""
    return FULL_PIPELINES[name] if name in FULL_PIPELINES else Pipeline(name, *EXPERTS[name])


def run_one(name: str, n: int, batch_size: int, malloc: str) -> dict[str, Any]:
    """Build ``name`` from a random authors'-layout checkpoint and time both paths (in this process)."""
    import numpy as np
    import torch
    from PIL import Image

    from spotfake.harness.allocator import allocator_settings, tune_cpu_allocator
    from spotfake.harness.model import Item, build_model
    from spotfake.harness.types import Sample

    if malloc == "tuned":
        tune_cpu_allocator()  # as `spotfake run` does

    expert = pipeline(name)
    side = expert.side
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) for _ in range(n)]
    items = [
        Item(Sample(id=f"b{i}", label="fake", prompt="real or fake?"), [img]) for i, img in enumerate(images)
    ]
    workdir = tempfile.TemporaryDirectory()  # kept while timing: map experts read their maps from it
    torch.manual_seed(0)
    args = expert.builder(Path(workdir.name))
    if "maps" in args and n > MAPS:
        raise SystemExit(f"{name} reads precomputed maps: --n is at most {MAPS}")
    began = time.perf_counter()
    model: Any = build_model(expert.model, {**args, "device": "cpu", "batch_size": str(batch_size)})
    load_s = time.perf_counter() - began
    model.predict(items[:batch_size])  # warm-up, at the batch shape timed below
    bare_run = expert.bare(model, images)
    wall = {"adapter": 0.0, "bare": 0.0}
    cpu = {"adapter": 0.0, "bare": 0.0}

    def adapter(start: int) -> None:
        responses = model.predict(items[start : start + batch_size])
        assert all(r.error is None for r in responses)

    def bare(start: int) -> None:
        bare_run(start, start + batch_size)

    for index, start in enumerate(range(0, n, batch_size)):
        # batch by batch, alternating which path goes first, so a change in machine load hits both alike
        order = (
            (("adapter", adapter), ("bare", bare))
            if index % 2 == 0
            else (("bare", bare), ("adapter", adapter))
        )
        for path, run in order:
            wall_began, cpu_began = time.perf_counter(), time.process_time()
            run(start)
            wall[path] += time.perf_counter() - wall_began
            cpu[path] += time.process_time() - cpu_began
    workdir.cleanup()
    return {
        "input": model.spec.describe(),
        "image_side": side,
        "images": n,
        "batch_size": batch_size,
        "malloc": allocator_settings(),
        "load_s": round(load_s, 1),
        "adapter_s_per_image": round(wall["adapter"] / n, 3),
        "bare_s_per_image": round(wall["bare"] / n, 3),
        "adapter_images_per_s": round(n / wall["adapter"], 3),
        "bare_images_per_s": round(n / wall["bare"], 3),
        "adapter_over_bare_wall": round(wall["bare"] / wall["adapter"], 3),
        "adapter_images_per_cpu_s": round(n / cpu["adapter"], 3),
        "bare_images_per_cpu_s": round(n / cpu["bare"], 3),
        "adapter_over_bare_cpu": round(cpu["bare"] / cpu["adapter"], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def cpu_model() -> str:
    """The processor's model name as the kernel reports it (``platform.processor()`` is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="images per expert")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated experts (default: all but {', '.join(sorted(ON_REQUEST))})",
    )
    parser.add_argument(
        "--malloc",
        choices=("tuned", "default"),
        default="tuned",
        help="glibc malloc thresholds fixed as `spotfake run` fixes them (default), or glibc's own",
    )
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n, args.batch_size, args.malloc)))
        return
    known = [*EXPERTS, *FULL_PIPELINES]
    names = [n for n in args.only.split(",") if n] or [n for n in known if n not in ON_REQUEST]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown expert(s) {', '.join(unknown)}; known: {', '.join(known)}")
    results = {}
    for name in names:
        command = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--n",
            str(args.n),
            "--batch-size",
            str(args.batch_size),
            "--malloc",
            args.malloc,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(name, results[name], flush=True)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    report = {
        "machine": f"{cpu_model()}, {platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"Python {platform.python_version()}",
        "threads": int(os.environ.get("OMP_NUM_THREADS", "0")) or None,
        "weights": "random, real architecture size, saved in each authors' checkpoint layout",
        "experts": {**previous.get("experts", {}), **results},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
