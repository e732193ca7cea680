"""DDA (Chen et al., "Dual Data Alignment Makes AI-Generated Image Detector Easier to Generalize",
NeurIPS 2025; github.com/roy-ch/Dual-Data-Alignment).

Network (``Inference/models/dinov2_models_lora.py``, ``dinov2_models.py``, ``lora.py``): DINOv2 ViT-L/14
(``torch.hub`` ``facebookresearch/dinov2``, ``dinov2_vitl14``) with LoRA (rank 8, alpha 1, so scale 1/8) on
every Linear whose name contains ``attn.qkv``, ``attn.proj``, ``mlp.fc1`` or ``mlp.fc2``; the normalised
CLS token (``x_norm_clstoken``) -> ``fc`` = Linear(1024, 1); p(fake) is the sigmoid. Here the ViT is timm's
``VisionTransformer`` (DINOv2's layout: LayerScale, qkv bias, LayerNorm eps 1e-6, same key names) and
the LoRA is peft's (``base_layer`` + ``lora_A``/``lora_B``, scale ``lora_alpha / r``), the same sum
``W x + B A x / 8`` as the authors' ``LoRALinear``.

Checkpoint (Hugging Face ``Junwei-Xi/Dual-Data-Alignment``; ``Inference/inference.py`` loads
``checkpoint['model']`` strictly). Key mapping, explicit: ``base_model.model.`` -> ``vit.``,
``base_model.fc.`` -> ``fc.``; inside a LoRA layer ``original_layer.`` -> ``base_layer.``, ``lora.lora_A``
-> ``lora_A.default.weight``, ``lora.lora_B`` -> ``lora_B.default.weight``; ``mask_token`` (DINOv2's
masked-patch embedding, used only in its self-supervised pre-training) is dropped. DINOv2 resamples its
37 x 37 position embeddings to the input's grid at every forward (``interpolate_pos_encoding``: bicubic,
scale factor ``(24 + 0.1) / 37``, no antialiasing); the input is always 336 x 336, so it is resampled
once here, the same way, to 24 x 24.

Preprocessing (``inference.py``): ``CenterCrop(336)`` (smaller images zero-padded), CLIP mean/std, no
resize.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict

from .checkpoints import apply_renames, load_into
from .expert import ExpertAdapter
from .preprocess import Preprocess

INPUT = 336
SPEC = Preprocess(crop=("center", INPUT), norm="clip")
VIT_L14 = {"embed_dim": 1024, "depth": 24, "num_heads": 16, "patch_size": 14}
"""DINOv2 ViT-L/14's sizes (``dinov2_vitl14``)."""
LORA_TARGETS = r".*\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)$"
RENAMES = [("base_model.model.", "vit."), ("base_model.fc.", "fc.")]
LORA_PARTS = [
    (".original_layer.", ".base_layer."),
    (".lora.lora_A", ".lora_A.default.weight"),
    (".lora.lora_B", ".lora_B.default.weight"),
]
INTERPOLATE_OFFSET = 0.1


def read_config(config: str | None) -> dict[str, int]:
    """DINOv2 ViT-L/14's sizes, or those in the JSON file ``config`` (keys of :data:`VIT_L14`)."""
    if not config:
        return dict(VIT_L14)
    path = Path(config).expanduser()
    data = loads_strict(path.read_text(encoding="utf-8"), where=str(path)) if path.is_file() else None
    if not isinstance(data, dict) or set(data) != set(VIT_L14):
        raise SpotfakeError(f"dda config={config!r}: expected a JSON file with exactly {sorted(VIT_L14)}")
    return {k: int(v) for k, v in data.items()}


class DDANet(nn.Module):
    """timm ViT (DINOv2 layout) with peft LoRA (rank 8, alpha 1) and ``fc`` on the CLS token."""

    def __init__(self, sizes: dict[str, int], rank: int = 8, alpha: int = 1) -> None:
        from peft import LoraConfig, inject_adapter_in_model
        from timm.models.vision_transformer import VisionTransformer

        super().__init__()
        vit = VisionTransformer(
            img_size=INPUT,
            patch_size=sizes["patch_size"],
            embed_dim=sizes["embed_dim"],
            depth=sizes["depth"],
            num_heads=sizes["num_heads"],
            num_classes=0,
            init_values=1e-5,
            mlp_ratio=4.0,
        )
        lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=LORA_TARGETS)
        self.vit = inject_adapter_in_model(lora, vit)
        self.fc = nn.Linear(sizes["embed_dim"], 1)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.fc(self.vit(pixel_values))


def resample_pos_embed(pos_embed: torch.Tensor, grid: int, where: str) -> torch.Tensor:
    """DINOv2's ``interpolate_pos_encoding`` for a ``grid`` x ``grid`` input, computed once."""
    tokens = pos_embed.shape[1] - 1
    side = int(round(tokens**0.5))
    if side * side != tokens:
        raise SpotfakeError(f"{where}: pos_embed has {tokens} patch positions, not a square grid")
    if side == grid:
        return pos_embed
    dim = pos_embed.shape[-1]
    patches = pos_embed[:, 1:].float().reshape(1, side, side, dim).permute(0, 3, 1, 2)
    scale = (grid + INTERPOLATE_OFFSET) / side
    patches = nn.functional.interpolate(patches, mode="bicubic", antialias=False, scale_factor=(scale, scale))
    patches = patches.permute(0, 2, 3, 1).reshape(1, grid * grid, dim)
    return torch.cat((pos_embed[:, :1].float(), patches), dim=1).to(pos_embed.dtype)


def map_state_dict(state: dict[str, torch.Tensor], where: str, grid: int) -> dict[str, torch.Tensor]:
    """The authors' ``DINOv2ModelWithLoRA`` keys -> :class:`DDANet` keys (see the module docstring)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in apply_renames(state, RENAMES).items():
        for old, new in LORA_PARTS:
            key = key.replace(old, new)
        out[key] = value
    out.pop("vit.mask_token", None)
    if "vit.pos_embed" in out:
        out["vit.pos_embed"] = resample_pos_embed(out["vit.pos_embed"], grid, where)
    return out


class DDA(ExpertAdapter):
    """``--model dda --model-args path=<DDA ckpt.pth>[,config=<sizes JSON>]``."""

    arch = "dda"
    published = "huggingface.co/Junwei-Xi/Dual-Data-Alignment (README: the 2026/02 re-release)"

    def __init__(
        self,
        path: str | None = None,
        config: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "16",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        file = self.checkpoint_path(path)
        sizes = read_config(config)
        network = DDANet(sizes)
        state = map_state_dict(self.read_state(file), str(file), INPUT // sizes["patch_size"])
        load_into(network, state, file, self.arch)
        self.options["dinov2"] = sizes
        self.options["lora"] = {"rank": 8, "alpha": 1.0}
        self.use(network, SPEC)
