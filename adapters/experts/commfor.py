"""Community Forensics: a ViT-S trained on thousands of generators (Park & Owens, "Community Forensics:
Using Thousands of Generators to Train Fake Image Detectors", CVPR 2025,
github.com/JeongsooP/Community-Forensics, MIT).

The authors' ``ViTClassifier`` (``models.py``) wraps timm ``vit_small_patch16_384.augreg_in21k_ft_in1k``
(or ``_224``) as ``self.vit`` with its ``head`` replaced by Linear(384, 1); p(fake) = sigmoid(logit).
The architecture is timm's ``vit_<model_size>_patch<patch_size>_<input_size>``.

Checkpoints, both with the ``vit.*`` keys of ``ViTClassifier.state_dict()``, loaded unchanged:

- Hugging Face ``OwensLab/commfor-model-384`` / ``-224`` (``PyTorchModelHubMixin``): a folder with
  ``model.safetensors`` and ``config.json`` (the constructor's ``model_size``, ``input_size``,
  ``patch_size``; ``freeze_backbone``, ``device``, ``dtype`` are training details and ignored);
  ``path=`` is that folder;
- the DropBox ``model_weights.tar`` checkpoints (``utils.save_checkpoint``): ``{"model": state dict,
  "optimizer", "scheduler", "scaler", "epoch", "itr"}``, keys possibly prefixed ``_orig_mod.``
  (``torch.compile``), stripped as their ``load_only_weights`` does; ``input_size=`` says which model.

Preprocessing (``dataloader.get_transform``, mode "test"): ``Resize(440)`` (shorter side, bilinear) +
``CenterCrop(384)`` for the 384 model, ``Resize(256)`` + ``CenterCrop(224)`` for the 224 one; ImageNet
mean/std.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from spotfake.adapters.model_args import choice_arg
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict

from .arch_config import architecture_config
from .checkpoints import load_into
from .expert import ExpertAdapter
from .preprocess import Preprocess

PUBLISHED = (
    "huggingface.co/OwensLab/commfor-model-384 and -224 (model.safetensors + config.json), "
    "or the DropBox model_weights.tar linked from github.com/JeongsooP/Community-Forensics"
)
RESIZE = {384: 440, 224: 256}
"""``determine_resize_crop_sizes``: the shorter-side resize for each input size."""
HUB_KEYS = {"model_size", "input_size", "patch_size", "freeze_backbone", "device", "dtype"}
DEFAULT_CONFIG: dict[str, Any] = {
    "arch": "commfor",
    "model_size": "small",
    "input_size": 384,
    "patch_size": 16,
    "timm_kwargs": {},  # timm.create_model overrides (embed_dim, depth, num_heads) for a scaled-down variant
}


class CommForNet(nn.Module):
    """``ViTClassifier``: the timm ViT as ``vit``, its head giving one logit."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        import timm

        name = f"vit_{config['model_size']}_patch{config['patch_size']}_{config['input_size']}"
        self.vit = timm.create_model(name, pretrained=False, num_classes=1, **dict(config["timm_kwargs"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit(x)


def hub_config(folder: Path) -> dict[str, Any]:
    """The ``model_size``/``input_size``/``patch_size`` of a ``PyTorchModelHubMixin`` ``config.json``."""
    path = folder / "config.json"
    if not path.is_file():
        return {}
    data = loads_strict(path.read_text(encoding="utf-8"), where=f"JSON config {path}")
    if not isinstance(data, dict) or set(data) - HUB_KEYS:
        extra = sorted(set(data) - HUB_KEYS) if isinstance(data, dict) else data
        raise SpotfakeError(f"{path}: not a Community Forensics config (unexpected {extra})")
    return {k: data[k] for k in ("model_size", "input_size", "patch_size") if k in data}


class CommunityForensics(ExpertAdapter):
    """``--model commfor --model-args path=<commfor-model-384 folder | checkpoint .pt>[,input_size=384|224]``."""

    arch = "commfor"
    published = PUBLISHED

    def __init__(
        self,
        path: str | None = None,
        input_size: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "16",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        root = Path(path).expanduser() if path else None
        hub: dict[str, Any] = {}
        if root is not None and root.is_dir():  # a Hugging Face snapshot folder
            hub = hub_config(root)
            path = str(root / "model.safetensors")
        weights = self.checkpoint_path(path)
        config = architecture_config(weights, DEFAULT_CONFIG, self.arch)
        config.update(hub)
        if input_size is not None:
            size = int(choice_arg(self.arch, "input_size", input_size, ("384", "224")))
            if hub and size != hub.get("input_size", size):
                raise SpotfakeError(f"{root}/config.json says input_size {hub['input_size']}, not {size}")
            config["input_size"] = size
        if config["input_size"] not in RESIZE:
            raise SpotfakeError(f"{self.arch}: input_size {config['input_size']} is not 384 or 224")
        network = CommForNet(config)
        load_into(network, self.read_state(weights, strip=("module.", "_orig_mod.")), weights, self.arch)
        self.options = {k: config[k] for k in ("model_size", "patch_size", "input_size", "timm_kwargs")}
        crop = int(config["input_size"])
        self.use(
            network, Preprocess(resize=("shorter", RESIZE[crop]), crop=("center", crop), norm="imagenet")
        )
