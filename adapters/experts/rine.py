"""RINE (Koutlis and Papadopoulos, "Leveraging Representations from Intermediate Encoder-blocks for
Synthetic Image Detection", ECCV 2024; github.com/mever-team/rine).

Network (``src/models.py``, ``Model``): a frozen OpenAI CLIP ViT-L/14 whose every block's ``ln_2`` output
is hooked; the CLS token of each (N, 24, 1024) goes through ``proj1`` (Dropout, then ``nproj`` x [Linear,
ReLU, Dropout]), is weighted by ``softmax(alpha)`` over the blocks and summed, then ``proj2`` (the same
shape) and ``head`` (Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear -> 1 logit). Here the backbone is
transformers' CLIP ViT-L/14 (``clip_path=``, the ``openai/clip-vit-large-patch14`` folder), whose
``layer_norm2`` is OpenAI's ``ln_2``; forward hooks on it take the CLS token (index 0: transformers keeps
batch-first, where OpenAI's LND layout made it ``[0]`` of the sequence axis).

Checkpoints (``ckpt/model_{1class,2class,4class,ldm}_trainable.pth``, in the repository): only the trainable
parts, a bare dict ``alpha`` (1, 24, proj_dim), ``proj1.{1,4,7,...}.{weight,bias}``, ``proj2.*``,
``head.{0,3,6}.*``, which ``src/utils.py`` assigns by name. They load strictly into the head; its sizes
come from the file (``alpha`` gives proj_dim and the block count, ``proj1`` the number of projections:
(4, 1024) for 1class and ldm, (4, 128) for 2class, (2, 1024) for 4class, as ``get_our_trained_model``
sets them). SIDBench's bundle holds the same four files under ``rine/``.

Preprocessing (``src/utils.py`` ``transforms_test_1``): ``CenterCrop(224)``, CLIP mean/std, no resize.
The authors' ``clip.load`` runs fp16 on a GPU and fp32 on CPU; ``dtype=`` chooses here (default float32).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import torch
from torch import nn

from spotfake.harness.errors import SpotfakeError

from .bundles import SIDBENCH
from .checkpoints import load_into
from .clip_vision import config_summary
from .expert import ExpertAdapter
from .preprocess import Preprocess

SPEC = Preprocess(crop=("center", 224), norm="clip")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _stack(width_in: int, width: int, count: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Dropout()]
    for i in range(count):
        layers += [nn.Linear(width_in if i == 0 else width, width), nn.ReLU(), nn.Dropout()]
    return nn.Sequential(*layers)


class RineHead(nn.Module):
    """The trainable parts: ``alpha``, ``proj1``, ``proj2``, ``head`` (the authors' names and indices)."""

    def __init__(self, blocks: int, width_in: int, nproj: int, proj_dim: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(1, blocks, proj_dim))
        self.proj1 = _stack(width_in, proj_dim, nproj)
        self.proj2 = _stack(proj_dim, proj_dim, nproj)
        self.head = nn.Sequential(
            nn.Linear(proj_dim, proj_dim),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(proj_dim, proj_dim),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(proj_dim, 1),
        )

    def forward(self, cls_tokens: torch.Tensor) -> torch.Tensor:
        """(N, blocks, width) CLS tokens of every block's ``ln_2`` -> (N, 1) logits."""
        g = self.proj1(cls_tokens.float())
        z = (torch.softmax(self.alpha, dim=1) * g).sum(dim=1)
        return self.head(self.proj2(z))


class RineNet(nn.Module):
    """A frozen CLIP vision tower with ``layer_norm2`` hooks, and the :class:`RineHead`."""

    def __init__(self, backbone: Any, head: RineHead) -> None:
        super().__init__()
        self.backbone = backbone.eval().requires_grad_(False)
        self.head = head
        self._outputs: list[torch.Tensor] = []
        for layer in backbone.encoder.layers:
            layer.layer_norm2.register_forward_hook(self._keep_cls)

    def _keep_cls(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        self._outputs.append(output[:, 0])

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        self._outputs = []
        dtype = next(self.backbone.parameters()).dtype
        with torch.no_grad():
            self.backbone(pixel_values=pixel_values.to(dtype))
        tokens, self._outputs = torch.stack(self._outputs, dim=1), []
        return self.head(tokens)


def head_sizes(state: dict[str, torch.Tensor], where: str) -> tuple[int, int, int]:
    """(blocks, nproj, proj_dim) of a RINE trainable-parts file."""
    alpha = state.get("alpha")
    if alpha is None or alpha.dim() != 3:
        raise SpotfakeError(
            f"{where}: no RINE 'alpha' (1, blocks, proj_dim) tensor; is it a RINE *_trainable.pth?"
        )
    nproj = len([k for k in state if re.fullmatch(r"proj1\.\d+\.weight", k)])
    return int(alpha.shape[1]), nproj, int(alpha.shape[2])


class Rine(ExpertAdapter):
    """``--model rine --model-args path=model_1class_trainable.pth,clip_path=<clip-vit-large-patch14>``."""

    arch = "rine"
    published = "github.com/mever-team/rine (ckpt/model_{1class,2class,4class,ldm}_trainable.pth)"
    bundle_files: ClassVar[dict[str, dict[str, str]]] = {
        SIDBENCH: {v: f"rine/model_{v}_trainable.pth" for v in ("1class", "2class", "4class", "ldm")}
    }

    def __init__(
        self,
        path: str | None = None,
        bundle: str | None = None,
        name: str | None = None,
        clip_path: str | None = None,
        dtype: str = "float32",
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        if dtype not in DTYPES:
            raise SpotfakeError(f"rine: dtype={dtype!r}: expected one of {sorted(DTYPES)}")
        file = self.checkpoint_path(path, bundle, name)
        state = self.read_state(file)
        if not clip_path:
            raise SpotfakeError(
                "rine needs clip_path=<local openai/clip-vit-large-patch14 folder> (the frozen backbone)"
            )
        from .univfd import backbone_files, load_backbone

        backbone = load_backbone(clip_path, DTYPES[dtype]).vision_model
        for weight_file in backbone_files(clip_path):
            self.add_file(weight_file)
        blocks, nproj, proj_dim = head_sizes(state, str(file))
        if blocks != len(backbone.encoder.layers):
            raise SpotfakeError(
                f"{file}: alpha weights {blocks} blocks, the CLIP backbone at {clip_path} has "
                f"{len(backbone.encoder.layers)}; RINE was trained on ViT-L/14 (24)"
            )
        head = RineHead(blocks, int(backbone.config.hidden_size), nproj, proj_dim)
        load_into(head, state, file, self.arch)
        self.options.update(
            {"nproj": nproj, "proj_dim": proj_dim, "dtype": dtype, "clip": config_summary(backbone.config)}
        )
        self.use(RineNet(backbone, head), SPEC)
