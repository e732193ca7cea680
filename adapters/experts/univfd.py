"""UnivFD: a linear probe on frozen CLIP ViT-L/14 image embeddings (Ojha et al., "Towards Universal
Fake Image Detectors that Generalize Across Generative Models", CVPR 2023,
github.com/WisconsinAIVision/UniversalFakeDetect).

The backbone is OpenAI's CLIP ViT-L/14 (``openai/clip-vit-large-patch14``), loaded here with transformers'
``CLIPVisionModelWithProjection`` from ``clip_path=`` (a local folder, or the hub id when it is cached or
online). Its ``image_embeds`` (768-d: the post-layernorm CLS token times ``visual_projection``) are what
the original's ``clip.encode_image`` returns, so the authors' head applies unchanged.

Checkpoint mapping: the authors release only the head, ``fc_weights.pth`` = ``{"weight": (1, 768),
"bias": (1,)}`` (loaded there with ``model.fc.load_state_dict``); here it becomes ``fc.weight``/``fc.bias``.
A full training checkpoint of theirs (``{"model": {"fc.weight", "fc.bias", "model.*" CLIP keys}}``) is
accepted too: only the ``fc.*`` keys are read, the backbone always comes from ``clip_path``.

Preprocessing of the original evaluation: centre crop 224 with no resize (smaller images are zero-padded,
as ``transforms.CenterCrop`` does), CLIP mean/std. ``resize=224`` first resizes the shorter side (bicubic),
as CLIP's own image processor does. The checkpoint identity is the sha256 of the head file and of the
backbone's weight files (its safetensors when the folder has them, as transformers then reads only those).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from spotfake.adapters.load_errors import load_errors, load_failure
from spotfake.adapters.weights_hash import local_snapshot, weight_files
from spotfake.harness.errors import SpotfakeError

from .checkpoints import load_into, module_state_dict
from .expert import ExpertAdapter
from .preprocess import Preprocess

ARCH = "univfd"
PUBLISHED = "github.com/WisconsinAIVision/UniversalFakeDetect (pretrained_weights/fc_weights.pth)"
DEFAULT_BACKBONE = "openai/clip-vit-large-patch14"
DEFAULT_CONFIG: dict[str, Any] = {
    "arch": ARCH,
    "backbone": DEFAULT_BACKBONE,  # the CLIP model the head was trained on (recorded, not loaded)
    "feature_dim": 768,  # CLIP ViT-L/14 projection size
    "resize": None,  # evaluation: shorter-side resize before the crop (None: as the original, no resize)
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def load_backbone(clip_path: str, dtype: torch.dtype = torch.float32) -> Any:
    """CLIP's vision tower with its projection, from a local folder or a hub id; frozen, in eval mode."""
    from transformers import CLIPVisionModelWithProjection

    try:
        backbone = CLIPVisionModelWithProjection.from_pretrained(clip_path, dtype=dtype)
    except load_errors() as exc:
        raise SpotfakeError(
            f"cannot load the CLIP backbone from clip_path={clip_path!r} ({load_failure(exc)}); "
            f"pass clip_path=<local folder holding {DEFAULT_BACKBONE}, as safetensors>"
        ) from None
    backbone.requires_grad_(False)
    return backbone.eval()


class UnivFDNet(nn.Module):
    """Frozen CLIP image embeddings -> a linear layer ``fc`` giving one logit."""

    def __init__(self, backbone: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.backbone: Any = backbone
        self.fc = nn.Linear(feature_dim, 1)

    @property
    def image_size(self) -> int:
        return int(self.backbone.config.image_size)

    def features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """The CLIP image embeddings (N, feature_dim), in float32."""
        dtype = next(self.backbone.parameters()).dtype
        return self.backbone(pixel_values=pixel_values.to(dtype)).image_embeds.float()

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            feats = self.features(pixel_values)
        return self.fc(feats)


def map_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """The authors' ``fc_weights.pth`` ({weight, bias}) or a full checkpoint -> ``fc.weight``/``fc.bias``."""
    state = module_state_dict(obj, path)
    if set(state) == {"weight", "bias"}:
        return {"fc.weight": state["weight"], "fc.bias": state["bias"]}
    head = {k: v for k, v in state.items() if k.startswith("fc.")}
    if set(head) != {"fc.weight", "fc.bias"}:
        raise SpotfakeError(
            f"{path}: no UnivFD head found (expected keys weight/bias or fc.weight/fc.bias, got {sorted(state)[:6]})"
        )
    return head


def eval_spec(config: dict[str, Any], image_size: int) -> Preprocess:
    """Optional shorter-side resize (bicubic), centre crop to the backbone's size, CLIP normalisation."""
    resize = config.get("resize")
    return Preprocess(
        resize=("shorter", int(resize)) if resize else None,
        crop=("center", image_size),
        norm="clip",
        interpolation="bicubic",
    )


def backbone_files(clip_path: str) -> list[Path]:
    """The weight files of the CLIP backbone's local folder (or cached hub snapshot) that transformers
    reads: its safetensors when it has them, else every weight file. The one rule by which UnivFD, D3 and
    RINE count a transformers CLIP folder in their checkpoint identity."""
    folder = local_snapshot(clip_path)
    files = weight_files(folder) if folder is not None else []
    if not files:
        raise SpotfakeError(
            f"clip_path={clip_path!r}: no local weight files to identify the CLIP backbone by"
        )
    return [f for f in files if f.suffix == ".safetensors"] or files


class UnivFD(ExpertAdapter):
    """``--model univfd --model-args path=fc_weights.pth,clip_path=<CLIP ViT-L/14 folder>[,resize=224,dtype=..]``."""

    arch = ARCH
    published = PUBLISHED

    def __init__(
        self,
        path: str | None = None,
        clip_path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
        resize: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        if dtype not in DTYPES:
            raise SpotfakeError(f"--model-args dtype={dtype!r}: expected one of {sorted(DTYPES)}")
        weights, obj = self.read_configured(path, DEFAULT_CONFIG, {"resize": resize})
        self.clip_path = clip_path or self.config["backbone"]
        backbone = load_backbone(self.clip_path, DTYPES[dtype])
        network = UnivFDNet(backbone, int(backbone.config.projection_dim))
        load_into(network.fc, {k[3:]: v for k, v in map_state_dict(obj, weights).items()}, weights, ARCH)
        for file in backbone_files(self.clip_path):
            self.add_file(file)
        self.image_size = network.image_size
        self.options |= {
            "backbone": self.config["backbone"],
            "clip": Path(self.clip_path).name,
            "dtype": dtype,
        }
        self.use(network, eval_spec(self.config, self.image_size))
