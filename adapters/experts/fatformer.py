"""FatFormer: CLIP ViT-L/14 with forgery-aware adapters (image and Haar-wavelet branches) and
language-guided alignment to learned "real"/"fake" prompts (Liu et al., "Forgery-aware Adaptive Transformer
for Generalizable Synthetic Image Detection", CVPR 2024, github.com/Michel-liu/FatFormer, Apache-2.0).

The network is :class:`~spotfake.adapters.experts.fatformer_net.FatFormerNet`; the published configuration
is their README's evaluation command on ``CLIP:ViT-L/14`` (``--num_vit_adapter 3 --num_context_embedding
8``): adapters on image blocks 7, 15 and 23. p(fake) = ``outputs.softmax(dim=1)[:, 1]``, as their
``main.py`` ``evaluate`` (class 1 is "fake").

Checkpoint: their ``main.py`` does ``model.load_state_dict(torch.load(path)['model'])`` (strict), so the
file's ``"model"`` entry is the whole ``CLIPModel.state_dict()``; it loads here unchanged, with no rename:

- ``clip_model.*``: the whole OpenAI-layout CLIP (open_clip's module names are OpenAI's), with
  ``clip_model.visual.transformer.resblocks.{7,15,23}.forgery_aware_adapter.*`` (their
  ``dwt_transform.h{0,1}_{col,row}`` and ``idwt_transform.g{0,1}_{col,row}`` are ``pytorch_wavelets``'
  filter buffers, loaded and used as stored);
- the aliases ``image_encoder.*`` (= ``clip_model.visual.*``), ``text_encoder.{transformer.*,
  positional_embedding, ln_final.*, text_projection}`` and ``logit_scale``, each the same tensor again
  (checked equal here: one value per parameter);
- ``language_guided_alignment.{ctx, token_prefix, token_suffix, patch_basaed_enhancer.*, norm1.*,
  linear1.*, linear2.*, norm2.*}`` and ``text_guided_interactor.*``, ``norm1.*``, ``linear1.*``,
  ``linear2.*``, ``norm2.*``.

Since every tensor of the model is in that entry, OpenAI's ``ViT-L-14.pt`` (which their ``clip.load``
reads first to build the model) contributes nothing to the scores and is not needed here. A
``<checkpoint stem>.json`` beside the file may override the architecture sizes (``DEFAULT_CONFIG``).

Preprocessing (``utils/dataset.py``, "test"; ``--img_resolution 256 --crop_resolution 224``):
``Resize((256, 256))`` (bilinear), ``CenterCrop(224)``, ImageNet mean/std.
"""

from __future__ import annotations

from typing import Any

import torch

from spotfake.harness.errors import SpotfakeError

from .arch_config import architecture_config
from .checkpoints import load_into
from .expert import ExpertAdapter, two_class_logit
from .fatformer_net import FatFormerNet, ForgeryAwareAdapter
from .preprocess import Preprocess

SPEC = Preprocess(resize=("square", 256), crop=("center", 224), norm="imagenet", interpolation="bilinear")
DEFAULT_CONFIG: dict[str, Any] = {
    "arch": "fatformer",
    # CLIP ViT-L/14 as their clip.model.build_model reads OpenAI's file (heads = width // 64)
    "image_size": 224,
    "patch_size": 14,
    "vision_width": 1024,
    "vision_layers": 24,
    "vision_heads": 16,
    "embed_dim": 768,
    "text_width": 768,
    "text_layers": 12,
    "text_heads": 12,
    "context_length": 77,
    "vocab_size": 49408,
    # main.py flags of the README's evaluation command
    "num_vit_adapter": 3,
    "num_context_embedding": 8,
    # fixed in their code: ForgeryAwareAdapterLayer's defaults, the two alignment modules' num_heads=12
    "adapter_bottleneck": 64,
    "adapter_heads": 8,
    "adapter_groups": 128,
    "adapter_scale": 0.1,
    "alignment_heads": 12,
}
ALIASES = (
    ("image_encoder.", "clip_model.visual."),
    ("text_encoder.transformer.", "clip_model.transformer."),
    ("text_encoder.positional_embedding", "clip_model.positional_embedding"),
    ("text_encoder.ln_final.", "clip_model.ln_final."),
    ("text_encoder.text_projection", "clip_model.text_projection"),
    ("logit_scale", "clip_model.logit_scale"),
)
"""The authors' module aliases: (alias prefix, the ``clip_model`` name it shares its tensors with)."""


def adapter_blocks(layers: int, count: int) -> list[int]:
    """Their ``VisionTransformer``: ``count`` adapters, one at the end of each of ``count`` equal runs of
    blocks (24 blocks, 3 adapters: 7, 15, 23)."""
    if count < 0 or (count and layers % count):
        raise SpotfakeError(f"fatformer: num_vit_adapter={count} must divide the {layers} image blocks")
    return [(i + 1) * (layers // count) - 1 for i in range(count)] if count else []


def build_network(config: dict[str, Any]) -> FatFormerNet:
    """A random-weight :class:`FatFormerNet` for ``config`` (see ``DEFAULT_CONFIG``)."""
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    c = config
    grid, rest = divmod(int(c["image_size"]), int(c["patch_size"]))
    if rest or grid % 2:
        raise SpotfakeError(
            f"fatformer: image_size / patch_size = {c['image_size']} / {c['patch_size']} must be an even "
            "whole number (the adapters' Haar DWT halves the patch grid)"
        )
    if c["embed_dim"] != c["text_width"]:
        raise SpotfakeError("fatformer: embed_dim must equal text_width (the prompts attend to image tokens)")
    try:
        clip = CLIP(
            embed_dim=c["embed_dim"],
            vision_cfg=CLIPVisionCfg(
                layers=c["vision_layers"],
                width=c["vision_width"],
                head_width=c["vision_width"] // c["vision_heads"],
                patch_size=c["patch_size"],
                image_size=c["image_size"],
            ),
            text_cfg=CLIPTextCfg(
                context_length=c["context_length"],
                vocab_size=c["vocab_size"],
                width=c["text_width"],
                heads=c["text_heads"],
                layers=c["text_layers"],
            ),
            quick_gelu=True,
        )
        adapters = {
            index: ForgeryAwareAdapter(
                c["vision_width"],
                c["adapter_bottleneck"],
                c["adapter_heads"],
                c["adapter_groups"],
                float(c["adapter_scale"]),
            )
            for index in adapter_blocks(c["vision_layers"], c["num_vit_adapter"])
        }
        return FatFormerNet(clip, adapters, c["num_context_embedding"], c["alignment_heads"])
    except (AssertionError, ValueError, TypeError, ZeroDivisionError) as exc:
        raise SpotfakeError(f"fatformer: the architecture config does not build ({exc})") from None


def check_aliases(state: dict[str, torch.Tensor], path: Any) -> None:
    """Check that every alias entry holds the same values as the ``clip_model`` entry it names (one
    parameter stored twice), so the strict load cannot end on one of two different values."""
    for alias, name in ALIASES:
        for key in [k for k in state if k.startswith(alias)]:
            twin = name + key[len(alias) :]
            if twin in state and not torch.equal(state[key], state[twin]):
                raise SpotfakeError(
                    f"{path}: {key} differs from {twin}, which the FatFormer model holds as one tensor; "
                    "is the file a FatFormer checkpoint saved by their code?"
                )


class FatFormer(ExpertAdapter):
    """``--model fatformer --model-args path=<checkpoint>.pth[,threshold=0.5,device=cuda]``."""

    arch = "fatformer"
    published = (
        "github.com/Michel-liu/FatFormer (README 'Model Zoo': Baidu, OneDrive or Google Drive; the 4-class "
        "ProGAN checkpoint)"
    )

    def __init__(
        self, path: str | None = None, threshold: str = "0.5", device: str = "auto", batch_size: str = "16"
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        weights = self.checkpoint_path(path)
        config = architecture_config(weights, DEFAULT_CONFIG, self.arch)
        # allow_namespace: the training options, if saved beside the weights.
        state = self.read_state(weights, containers=("model",), allow_namespace=True)
        network = build_network(config)
        check_aliases(state, weights)
        load_into(network, state, weights, self.arch)
        self.options = {"config": {k: v for k, v in config.items() if k != "arch"}}
        self.use(network, SPEC)

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """softmax(two logits)[1] = sigmoid(logit_fake - logit_real)."""
        return two_class_logit(self.network(batch))
