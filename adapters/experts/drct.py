"""DRCT: diffusion-reconstruction contrastive training (Chen et al., "DRCT: Diffusion Reconstruction
Contrastive Training towards Universal Detection of Diffusion Generated Images", ICML 2024,
github.com/beibuwandeluori/DRCT; no licence file).

Both published detectors are the authors' ``ContrastiveModels`` (``network/models.py``): a backbone whose
output is a 1024-d embedding (``model``), then ``fc`` (1024 -> 2); p(fake) = softmax[1] (their
``eval_model``: ``1 - softmax[:, 0]``).

- ``drct-convnext``: timm ``convnext_base_in22k`` with ``head.fc`` replaced by Linear(1024, 1024). Keys
  ``model.stem.*``, ``model.stages.*``, ``model.head.norm.*``, ``model.head.fc.*``, ``fc.*``: timm's ConvNeXt
  names (the same in their pinned timm 0.6.12 and today's), loaded unchanged into timm's ``convnext_base``
  (the in22k variant differs only in its classifier, replaced here).
- ``drct-clip``: OpenAI ``clip.load("ViT-L/14")`` (``CLIPModelV2``: ``encode_image``, 768-d) then ``model.fc``
  (768 -> 1024) and ``fc``. The checkpoint carries the whole CLIP model (``model.model.visual.*`` and the
  text tower); the image tower runs on transformers' ``CLIPVisionModelWithProjection`` through the key map
  of :mod:`spotfake.adapters.experts.openai_clip_keys`, the text tower is checked by name and dropped, and
  ``model.fc.*`` is renamed ``embed.*``.

Checkpoints (``pretrained.zip`` on ModelScope ``BokingChen/DRCT-2M``, e.g. ``DRCT-2M/sdv14/
convnext_base_in22k_224_drct_amp_crop/14_acc0.9996.pth``) are bare state dicts (``scripts/train.py``:
``model.load_state_dict(torch.load(path))``).

Preprocessing (their test scripts pass ``--is_crop --input_size 224``; ``data/transform.py``
``create_val_transforms``, albumentations): ``PadIfNeeded(224, 224)`` with zeros (the smaller half before),
``CenterCrop(224)`` at ``(n - 224) // 2`` (albumentations rounds down where ``transforms.CenterCrop`` rounds
to even), ImageNet mean/std for both backbones.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from torch import nn

from spotfake.harness.errors import SpotfakeError

from .arch_config import architecture_config
from .checkpoints import load_into
from .expert import ExpertAdapter, two_class_logit
from .openai_clip_keys import check_text_tower, vision_config, visual_to_transformers
from .preprocess import Preprocess

PUBLISHED = "modelscope.cn/datasets/BokingChen/DRCT-2M (pretrained.zip; README 'Testing')"
CROP = 224
CONVNEXT_CONFIG: dict[str, Any] = {
    "arch": "drct-convnext",
    "backbone": "convnext_base",  # timm name; convnext_base_in22k differs only in the replaced classifier
    "timm_kwargs": {},  # timm.create_model overrides (depths, dims) for a retrained or scaled-down variant
    "embedding_size": 1024,
}
CLIP_PREFIX = "model.model."


SPEC = Preprocess(crop=("center", CROP), pad="zero", crop_offset="floor", norm="imagenet")
"""Their validation transform: ``PadIfNeeded(224, 224)`` with zeros, then ``CenterCrop(224)`` from
``(n - 224) // 2``, ImageNet mean/std."""


class DRCTConvNeXtNet(nn.Module):
    """``ContrastiveModels``: timm ConvNeXt giving the embedding (``model``), then ``fc`` (2 logits)."""

    def __init__(self, backbone: str, embedding_size: int, timm_kwargs: dict[str, Any]) -> None:
        super().__init__()
        import timm

        self.model = timm.create_model(backbone, pretrained=False, num_classes=embedding_size, **timm_kwargs)
        self.fc = nn.Linear(embedding_size, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.model(x))


class DRCTClipNet(nn.Module):
    """``ContrastiveModels`` over ``CLIPModelV2``: CLIP image embedding, ``embed`` (their ``model.fc``),
    then ``fc`` (2 logits)."""

    def __init__(self, vision: nn.Module, projection_dim: int, embedding_size: int) -> None:
        super().__init__()
        self.vision = vision
        self.embed = nn.Linear(projection_dim, embedding_size)
        self.fc = nn.Linear(embedding_size, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.embed(self.vision(pixel_values=x).image_embeds))


def clip_state(state: dict[str, torch.Tensor], weights: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """The transformers vision config and the state dict of :class:`DRCTClipNet` from a DRCT CLIP
    checkpoint (the text tower checked and dropped)."""
    clip = {k[len(CLIP_PREFIX) :]: v for k, v in state.items() if k.startswith(CLIP_PREFIX)}
    if not clip:
        raise SpotfakeError(
            f"{weights}: no {CLIP_PREFIX}* keys (keys start {sorted(state)[:3]}); is it a DRCT clip-ViT-L-14 checkpoint?"
        )
    check_text_tower(clip, weights)
    # keys the map does not know keep the authors' name, so that strict loading reports them as they are
    mapped = {
        (CLIP_PREFIX + k if k.startswith("visual.") else f"vision.{k}"): v
        for k, v in visual_to_transformers(clip).items()
    }
    for key, value in state.items():
        if not key.startswith(CLIP_PREFIX):
            mapped["embed." + key[len("model.fc.") :] if key.startswith("model.fc.") else key] = value
    return vision_config(clip, weights), mapped


class DRCT(ExpertAdapter):
    """Shared by both DRCT detectors: the checkpoint, the 2-logit head and DRCT's crop."""

    published = PUBLISHED

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "16",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        weights = self.checkpoint_path(path)
        network = self.build(weights, self.read_state(weights))
        self.use(network, SPEC)

    @abstractmethod
    def build(self, weights: Any, state: dict[str, torch.Tensor]) -> nn.Module:
        """The network, strictly loaded from ``state``."""

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        return two_class_logit(self.network(batch))


class DRCTConvNeXt(DRCT):
    """``--model drct-convnext --model-args path=<convnext_base_in22k_224_drct_amp_crop/*.pth>``."""

    arch = "drct-convnext"

    def build(self, weights: Any, state: dict[str, torch.Tensor]) -> nn.Module:
        config = architecture_config(weights, CONVNEXT_CONFIG, self.arch)
        kwargs = dict(config["timm_kwargs"])
        network = DRCTConvNeXtNet(str(config["backbone"]), int(config["embedding_size"]), kwargs)
        load_into(network, state, weights, self.arch)
        self.options |= {"backbone": config["backbone"], "timm_kwargs": kwargs}
        return network


class DRCTClip(DRCT):
    """``--model drct-clip --model-args path=<clip-ViT-L-14_224_drct_amp_crop/*.pth>``."""

    arch = "drct-clip"

    def build(self, weights: Any, state: dict[str, torch.Tensor]) -> nn.Module:
        from transformers import CLIPVisionModelWithProjection

        config, mapped = clip_state(state, weights)
        if config.image_size != CROP:
            raise SpotfakeError(
                f"{weights}: a CLIP tower for {config.image_size}px input; DRCT runs at {CROP}"
            )
        embedding = state.get("fc.weight")
        if embedding is None or embedding.ndim != 2:
            raise SpotfakeError(f"{weights}: no fc.weight (the 2-way head); is it a DRCT checkpoint?")
        network = DRCTClipNet(
            CLIPVisionModelWithProjection(config), config.projection_dim, int(embedding.shape[1])
        )
        load_into(network, mapped, weights, self.arch)
        self.options |= {
            "clip": {
                k: getattr(config, k)
                for k in ("hidden_size", "num_hidden_layers", "patch_size", "image_size")
            }
        }
        return network
