"""C2P-CLIP (Tan et al., "C2P-CLIP: Injecting Category Common Prompt in CLIP to Enhance Generalization in
Deepfake Detection", AAAI 2025; github.com/chuangchuangtan/C2P-CLIP-DeepfakeDetection).

Network (the authors' ``inference.py``, class ``C2P_CLIP``): transformers' ``CLIPModel``
(``openai/clip-vit-large-patch14``) without its text tower; ``image_embeds`` = ``visual_projection`` of the
vision tower's ``pooler_output``, divided by its L2 norm, then ``fc`` = Linear(768, 1); p(fake) is the
sigmoid. The vision tower is fine-tuned, so every weight comes from the checkpoint.

Checkpoint: ``C2P_CLIP_release_20240901.zip``, which ``inference.py`` loads with
``torch.hub.load_state_dict_from_url`` (a zip of one file, unpacked here the same way) and
``load_state_dict(strict=True)``: a bare state dict with keys ``model.vision_model.*``,
``model.visual_projection.weight`` and ``model.fc.{weight,bias}``; they load unchanged (a ``module.``
prefix is stripped; ``position_ids`` buffers older transformers saved are dropped when they are 0..n-1).

Preprocessing (``data.py``): ``Resize(224)`` (shorter side, bilinear), ``CenterCrop(224)``, CLIP
mean/std.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .checkpoints import load_into
from .clip_vision import config_summary, drop_position_ids, vision_config
from .expert import ExpertAdapter
from .preprocess import Preprocess

SPEC = Preprocess(resize=("shorter", 224), crop=("center", 224), norm="clip", interpolation="bilinear")


class C2PCLIPNet(nn.Module):
    """``model.vision_model`` + ``model.visual_projection`` + ``model.fc`` on the normalised embedding."""

    def __init__(self, config: Any) -> None:
        from transformers import CLIPVisionModel

        super().__init__()
        self.model: Any = nn.Module()
        self.model.vision_model = CLIPVisionModel(config)
        self.model.visual_projection = nn.Linear(config.hidden_size, config.projection_dim, bias=False)
        self.model.fc = nn.Linear(config.projection_dim, 1)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pooled = self.model.vision_model(pixel_values=pixel_values).pooler_output
        embeds = self.model.visual_projection(pooled)
        return self.model.fc(embeds / embeds.norm(p=2, dim=-1, keepdim=True))


class C2PCLIP(ExpertAdapter):
    """``--model c2p-clip --model-args path=C2P_CLIP_release_20240901.zip[,config=<CLIP config.json>]``."""

    arch = "c2p-clip"
    published = (
        "github.com/chuangchuangtan/C2P-CLIP-DeepfakeDetection (inference.py --model_path: "
        "C2P_CLIP_release_20240901.zip)"
    )

    def __init__(
        self,
        path: str | None = None,
        config: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        file = self.checkpoint_path(path)
        clip_config = vision_config(config)
        network = C2PCLIPNet(clip_config)
        state = drop_position_ids(self.read_state(file), file)
        load_into(network, state, file, self.arch)
        self.options["clip"] = config_summary(clip_config)
        self.use(network, SPEC)
