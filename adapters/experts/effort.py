"""Effort (Yan et al., "Orthogonal Subspace Decomposition for Generalizable AI-Generated Image Detection",
ICML 2025; github.com/YZY-stack/Effort-AIGI-Detection).

Network (``DeepfakeBench/training/detectors/effort_detector.py``): transformers' CLIP ViT-L/14 vision tower
in which every ``nn.Linear`` of the self-attention (``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``) is an
``SVDResidualLinear``: ``weight_main`` (the top r = n - 1 singular components, frozen) plus the trainable
residual ``U_residual @ diag(S_residual) @ V_residual``, with the bias; the checkpoint also keeps the
frozen factors ``U_r``, ``S_r``, ``V_r``, which the forward never uses. ``head`` = Linear(1024, 2) on the
``pooler_output``; p(fake) = ``softmax[:, 1]``.

Here the SVD layers are loaded strictly with all eight tensors each, then each is folded into a plain
linear layer with weight ``weight_main + U_residual @ diag(S_residual) @ V_residual`` (the sum the
authors' forward computes at every call), so inference is transformers' own CLIP vision model.

Checkpoints (README, Google Drive: trained on GenImage SD v1.4 or Chameleon SD v1.4; FaceForensics++ for
faces): DeepfakeBench saves ``model.state_dict()``, so keys are ``backbone.*`` and ``head.*`` (``module.``
first when trained with DataParallel); the demo loads ``ckpt.get("state_dict", ckpt)``. Renames, in order
(the same the UniversalFakeDetect-codebase version of Effort uses, ``ClipModel.model.vision_model`` and
``fc``): ``module.`` stripped; ``backbone.`` -> ``model.vision_model.``; ``head.`` -> ``fc.``. A checkpoint
of that codebase (``{"model": ...}`` with the whole ``CLIPModel``) also loads: its text tower
(``model.text_model.``, ``model.text_projection.``, ``model.visual_projection.``, ``model.logit_scale``)
is dropped by name, as the image path never uses it.

Preprocessing: DeepfakeBench's test loader resizes to 224 x 224 with ``cv2.INTER_CUBIC``
(``dataset/abstract_dataset.py``), then CLIP mean/std; the single-image ``demo.py`` uses
``cv2.INTER_LINEAR`` (``interpolation=bilinear``). Both resize the whole image, aspect not kept.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spotfake.harness.errors import SpotfakeError

from .checkpoints import load_into
from .clip_vision import config_summary, drop_position_ids, vision_config
from .expert import ExpertAdapter, two_class_logit
from .preprocess import Preprocess

RENAMES = [("backbone.", "model.vision_model."), ("head.", "fc.")]
UNUSED_PREFIXES = (
    "model.text_model.",
    "model.text_projection.",
    "model.visual_projection.",
    "model.logit_scale",
)
ATTENTION = ("q_proj", "k_proj", "v_proj", "out_proj")


def spec(interpolation: str) -> Preprocess:
    """DeepfakeBench's test transform (bicubic) or the demo's (bilinear): cv2-style square resize 224."""
    return Preprocess(resize=("square", 224), norm="clip", interpolation=interpolation, backend="tensor")


class SVDResidualLinear(nn.Module):
    """The eight tensors of one of Effort's SVD linear layers (for strict loading), foldable into a Linear."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        out_features, in_features = linear.weight.shape
        n = min(out_features, in_features)
        r = n - 1  # the authors' r = 1024 - 1 of ViT-L/14's 1024 singular values
        self.weight_main = nn.Parameter(torch.zeros(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.U_residual = nn.Parameter(torch.zeros(out_features, n - r))
        self.S_residual = nn.Parameter(torch.zeros(n - r))
        self.V_residual = nn.Parameter(torch.zeros(n - r, in_features))
        self.U_r = nn.Parameter(torch.zeros(out_features, r))
        self.S_r = nn.Parameter(torch.zeros(r))
        self.V_r = nn.Parameter(torch.zeros(r, in_features))

    def folded(self) -> nn.Linear:
        """A Linear with the weight the authors' forward computes: main + U diag(S) V."""
        weight = self.weight_main + self.U_residual @ torch.diag(self.S_residual) @ self.V_residual
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(self.bias)
        return linear


class EffortNet(nn.Module):
    """``model.vision_model`` (CLIP vision tower) + ``fc`` (Linear(hidden, 2)) on ``pooler_output``."""

    def __init__(self, config: Any) -> None:
        from transformers import CLIPVisionModel

        super().__init__()
        self.model: Any = nn.Module()
        self.model.vision_model = CLIPVisionModel(config)
        self.fc = nn.Linear(config.hidden_size, 2)

    def attention_layers(self) -> list[tuple[nn.Module, str]]:
        """(self-attention module, projection name) for every projection Effort replaces."""
        layers = self.model.vision_model.encoder.layers
        return [(layer.self_attn, name) for layer in layers for name in ATTENTION]

    def with_svd_layers(self) -> EffortNet:
        """This network with each attention projection replaced by an :class:`SVDResidualLinear`."""
        for attention, name in self.attention_layers():
            setattr(attention, name, SVDResidualLinear(getattr(attention, name)))
        return self

    def fold(self) -> EffortNet:
        """Each :class:`SVDResidualLinear` replaced by the Linear it computes."""
        for attention, name in self.attention_layers():
            setattr(attention, name, getattr(attention, name).folded())
        return self

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return two_class_logit(self.fc(self.model.vision_model(pixel_values=pixel_values).pooler_output))


class Effort(ExpertAdapter):
    """``--model effort --model-args path=<Effort .pth>[,interpolation=bicubic|bilinear,config=...]``."""

    arch = "effort"
    published = "github.com/YZY-stack/Effort-AIGI-Detection (README: Google Drive checkpoints)"

    def __init__(
        self,
        path: str | None = None,
        config: str | None = None,
        interpolation: str = "bicubic",
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        if interpolation not in ("bicubic", "bilinear"):
            raise SpotfakeError(
                f"effort: interpolation={interpolation!r}: bicubic (DeepfakeBench test) or bilinear (demo)"
            )
        file = self.checkpoint_path(path)
        clip_config = vision_config(config)
        state = self.read_state(file, renames=RENAMES)
        state = {k: v for k, v in state.items() if not k.startswith(UNUSED_PREFIXES)}
        network = EffortNet(clip_config).with_svd_layers()
        load_into(network, drop_position_ids(state, file), file, self.arch)
        self.options["clip"] = config_summary(clip_config)
        self.use(network.fold(), spec(interpolation))
