"""B-Free: a bias-free trained ViT with registers (Guillaro et al., "A Bias-Free Training Paradigm for More
General AI-generated Image Detection", CVPR 2025, github.com/grip-unina/B-Free; GRIP's licence: nonprofit
research use only).

The published folder ``BFREE_dino2reg4`` holds ``config.yaml`` (``arch``, ``norm_type``, ``weights_file``,
``model_name``) and ``model_epoch_best.pth``. ``arch`` is ``timm_c5i504_<timm model>``: their
``networks.get_network`` builds ``timm.create_model(<timm model>, num_classes=1)`` (a DINOv2 ViT with four
registers), sets its input size to 504 and wraps it in ``Wrapper5crops``:

- no resize: the whole image goes through the patch embedding convolution;
- an embedding grid smaller than 36 x 36 (504 / 14) in either direction is tiled (``replicate_wrap``:
  repeated ``ceil(36 / n)`` times along each axis, then both axes cut to 36);
- five 36 x 36 windows of the grid (centre at ``(n - 36) // 2``, then the top-left, bottom-left,
  bottom-right and top-right corners) run through the rest of the ViT and their logits are averaged.

The output is one logit (> 0 fake, their ``main_bfree.py``); p(fake) = its sigmoid. ``norm_type`` picks the
normalisation (their ``utils/normalization.py``: ``resnet`` ImageNet, ``clip``, ``xception`` 0.5, ``none``).

Checkpoint mapping: ``model_epoch_best.pth`` is ``{"model": state dict}`` (their ``load_weights`` asserts
the key); the wrapper loads ``patch_embed.*`` into the patch embedding and the rest into the ViT, so the
state dict is exactly the timm model's (``cls_token``, ``reg_token``, ``pos_embed`` (1, 1296, C),
``patch_embed.proj.*``, ``blocks.N.{norm1,attn.qkv,attn.proj,ls1.gamma,norm2,mlp.fc1,mlp.fc2,ls2.gamma}``,
``norm``, ``head``) and loads unchanged into it. Same-size images run as one batch (the authors run one
image at a time; the five windows of each image stay together).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spotfake.harness.errors import SpotfakeError

from .arch_config import architecture_config
from .checkpoints import load_into
from .expert import ExpertAdapter
from .preprocess import Preprocess

PUBLISHED = (
    "grip.unina.it/download/prog/B-Free/weights/BFREE_dino2reg4.zip (github.com/grip-unina/B-Free code/README.md, "
    "MD5 f3f53fa647848b16cf81c913f148a198)"
)
ARCH_PATTERN = re.compile(r"^timm_c5i(\d+)_(.+)$")
NORM_TYPES = {"resnet": "imagenet", "clip": "clip", "xception": "half", "none": "none"}
DEFAULT_CONFIG: dict[str, Any] = {"arch": "bfree", "timm_kwargs": {}}
"""``timm_kwargs``: timm.create_model overrides (embed_dim, depth, num_heads) for a scaled-down variant,
from ``<weights stem>.json`` beside the checkpoint; the published folder needs none."""


def wrap_to(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``replicate_wrap``: tile an embedding grid (N, C, H, W) ``ceil(size / n)`` times per axis, then cut
    both axes to ``size``."""
    reps = [max(math.ceil(s / n), 1) for s, n in zip(size, grid.shape[-2:], strict=True)]
    return grid.repeat(1, 1, *reps)[..., : size[0], : size[1]]


def five_windows(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The centre, top-left, bottom-left, bottom-right and top-right ``size`` windows of (N, C, H, W),
    stacked along the batch axis (window-major: five blocks of N)."""
    if grid.shape[-2] < size[0] or grid.shape[-1] < size[1]:
        grid = wrap_to(grid, size)
    (h, w), (gh, gw) = size, grid.shape[-2:]
    top, left = max((gh - h) // 2, 0), max((gw - w) // 2, 0)
    windows = (
        grid[..., top : top + h, left : left + w],
        grid[..., :h, :w],
        grid[..., -h:, :w],
        grid[..., -h:, -w:],
        grid[..., :h, -w:],
    )
    return torch.cat(windows, dim=0)


class FiveCropViT(nn.Module):
    """A loaded timm ViT run as ``Wrapper5crops`` runs it: patch embedding on the whole image, five windows
    of the embedding grid through the rest, logits averaged per image."""

    def __init__(self, vit: nn.Module) -> None:
        super().__init__()
        embed: Any = vit.patch_embed
        self.proj, self.norm = embed.proj, embed.norm
        self.grid = tuple(int(g) for g in embed.grid_size)
        vit.patch_embed = nn.Identity()
        self.vit = vit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = five_windows(self.proj(x), self.grid)  # type: ignore[arg-type]
        logits = self.vit(self.norm(tokens.flatten(2).transpose(1, 2)))
        return torch.stack(torch.split(logits, x.shape[0], dim=0)).mean(dim=0)


def read_bfree_folder(folder: Path, published: str) -> tuple[dict[str, Any], Path]:
    """``config.yaml`` of a B-Free weights folder (the keys their ``get_config`` reads) and its weights file."""
    import yaml

    config = folder / "config.yaml"
    if not config.is_file():
        raise SpotfakeError(
            f"{config} not found: path= must be the unzipped BFREE_dino2reg4 folder; from {published}"
        )
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpotfakeError(f"{config}: not valid YAML ({str(exc).splitlines()[0]})") from None
    keys = ("arch", "norm_type", "weights_file")
    if not isinstance(data, dict) or any(k not in data for k in keys):
        raise SpotfakeError(f"{config}: expected the keys {list(keys)} (B-Free's config.yaml)")
    name = str(data["weights_file"])
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise SpotfakeError(f"{config}: weights_file {name!r} must name a file inside the folder")
    return data, folder / name


class BFree(ExpertAdapter):
    """``--model bfree --model-args path=<BFREE_dino2reg4 folder>[,threshold=0.5,device=cuda,batch_size=4]``."""

    arch = "bfree"
    published = PUBLISHED

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "4",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        folder = Path(path).expanduser() if path else None
        if folder is None or not folder.is_dir():
            raise SpotfakeError(
                f"bfree needs path=<BFREE_dino2reg4 folder (config.yaml + weights)>; from {PUBLISHED}"
            )
        data, weights = read_bfree_folder(folder, PUBLISHED)
        weights = self.checkpoint_path(str(weights))
        match = ARCH_PATTERN.match(str(data["arch"]))
        if match is None:
            raise SpotfakeError(
                f"{folder / 'config.yaml'}: arch {data['arch']!r} is not timm_c5i<size>_<timm model>"
            )
        norm = NORM_TYPES.get(str(data["norm_type"]))
        if norm is None:
            raise SpotfakeError(
                f"{folder / 'config.yaml'}: norm_type {data['norm_type']!r} not in {sorted(NORM_TYPES)}"
            )
        crop, timm_name = int(match.group(1)), match.group(2)
        kwargs = dict(architecture_config(weights, DEFAULT_CONFIG, self.arch)["timm_kwargs"])
        import timm

        vit = timm.create_model(timm_name, pretrained=False, num_classes=1, img_size=crop, **kwargs)
        load_into(vit, self.read_state(weights, containers=("model",)), weights, self.arch)
        self.options = {
            "model_name": str(data.get("model_name", folder.name)),
            "timm_arch": str(data["arch"]),
            "timm_kwargs": kwargs,
        }
        self.use(FiveCropViT(vit), Preprocess(crop=("five", crop), norm=norm))
