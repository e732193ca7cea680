"""D³ (Yang et al., "D3: Scaling Up Deepfake Detection by Learning from Discrepancy", CVPR 2025;
github.com/BigAandSmallq/D3, no licence file).

Network (``models/clip_models.py``, ``CLIPModelShuffleAttentionPenultimateLayer``, built by
``validate_for_robustness.py`` with ``shuffle_times=1, original_times=1, patch_size=[14]``): a frozen OpenAI
CLIP ViT-L/14 whose ``ln_post`` output (the post-layernorm CLS token, 1024-d, before ``proj``) is hooked;
it runs twice, on the image with its 14 x 14 tiles shuffled (``F.unfold`` -> ``randperm`` -> ``F.fold``)
and on the image itself, and the two features, stacked in that order as (N, 2, 1024), go through
``TransformerAttention`` (``models/transformer_attention.py``): ``query``/``key``/``value`` Linear(1024,
1024), ``softmax(q k^T / sqrt(1024), dim=1)`` (over the query axis, as written), ``@ v``, flattened to
2048, ``fc`` Linear(2048, 1): one logit, p(fake) = sigmoid.

Checkpoint (``ckpt/classifier.pth``, in the repository): ``attention_head.state_dict()``, a bare dict
``query.*``, ``key.*``, ``value.*``, ``fc.*`` (``networks/base_model.py`` ``save_networks`` with
``--fix_backbone``); identity mapping, strict. The backbone is OpenAI's ``ViT-L/14`` (``clip.load``, fp32:
they load it on the CPU, then ``.cuda()``), given as ``clip_path=``: either an OpenAI-layout state dict
(``clip.load("ViT-L/14", device="cpu")[0].state_dict()`` saved with ``torch.save``; mapped onto
transformers' CLIP by :mod:`spotfake.adapters.experts.openai_clip_keys`, the text tower checked and
dropped, and the ``input_resolution``/``context_length``/``vocab_size`` entries of the TorchScript
module's state dict dropped as ``build_model`` does), or the transformers folder
``openai/clip-vit-large-patch14`` (the same weights, converted). OpenAI's TorchScript archive
``ViT-L-14.pt`` itself is not read (it is code, not tensors): convert it as above.

Preprocessing (``validate_for_robustness.py`` ``RealFakeDataset``): ``Resize((224, 224))`` (PIL,
bilinear), CLIP mean/std; the shuffle acts on the normalised tensor, as in their forward.

The shuffle: their forward draws ``torch.randperm`` from the global generator, one permutation per batch
shared by its images (``set_seed(418)`` once, batches of 128 from a ``random.shuffle``-d file list), so an
image's score depends on where it fell in their run and cannot be reproduced bit for bit elsewhere. Here
each sample gets its own permutation from a ``torch.Generator`` seeded with ``sha256(seed, sample id)``
(``seed=``, default 0, recorded in settings): a score depends on the image, its id and the seed only.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from spotfake.adapters.model_args import int_arg
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item

from .checkpoints import load_into
from .clip_vision import config_summary
from .expert import ExpertAdapter
from .openai_clip_keys import check_text_tower, vision_config, visual_to_transformers
from .preprocess import Preprocess

SIZE = 224
GRANULARITY = 14
"""The shuffle's tile size (``validate_for_robustness.py``: ``granularity = 14``; README ``--patch_size=14``)."""
SPEC = Preprocess(resize=("square", SIZE), norm="clip")
JIT_EXTRAS = ("input_resolution", "context_length", "vocab_size")


def sample_generator(seed: int, sample_id: str) -> torch.Generator:
    """A CPU generator seeded from the run's shuffle seed and the sample id."""
    digest = hashlib.sha256(f"{seed}\0{sample_id}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & ((1 << 63) - 1))


def shuffle_tiles(x: torch.Tensor, tile: int, generator: torch.Generator) -> torch.Tensor:
    """Their ``shuffle_patches`` on one (C, H, W) tensor: unfold ``tile`` x ``tile`` tiles, permute, fold."""
    height, width = x.shape[-2:]
    tiles = F.unfold(x[None], kernel_size=tile, stride=tile)
    order = torch.randperm(tiles.shape[-1], generator=generator)
    return F.fold(tiles[:, :, order], output_size=(height, width), kernel_size=tile, stride=tile)[0]


class D3Head(nn.Module):
    """``TransformerAttention(input_dim, tokens, last_dim=1)`` under the authors' names."""

    def __init__(self, width: int, tokens: int = 2) -> None:
        super().__init__()
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.fc = nn.Linear(width * tokens, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, tokens, width) -> (N, 1)."""
        q, k, v = self.query(x), self.key(x), self.value(x)
        attention = torch.softmax(q @ k.transpose(1, 2) / k.shape[-1] ** 0.5, dim=1)
        return self.fc((attention @ v).reshape(x.shape[0], -1))


class D3Net(nn.Module):
    """The frozen CLIP tower on the shuffled and the original image (channels 3..5 and 0..2), then the head."""

    def __init__(self, vision: Any, head: D3Head) -> None:
        super().__init__()
        self.vision = vision.eval().requires_grad_(False)
        self.head = head

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            shuffled = self.vision(pixel_values=pair[:, 3:]).pooler_output
            original = self.vision(pixel_values=pair[:, :3]).pooler_output
        return self.head(torch.stack([shuffled, original], dim=-2).float())


def openai_clip_tower(adapter: ExpertAdapter, file: Path) -> Any:
    """transformers' CLIP vision transformer from an OpenAI-layout state dict file, strictly loaded."""
    from transformers import CLIPVisionModelWithProjection

    if zipfile.is_zipfile(file) and any("/code/" in n for n in zipfile.ZipFile(file).namelist()):
        raise SpotfakeError(
            f"{file}: a TorchScript archive (OpenAI's ViT-L-14.pt), which is not read here; save its "
            "weights: torch.save(clip.load('ViT-L/14', device='cpu')[0].state_dict(), 'ViT-L-14.pth')"
        )
    state = {k: v for k, v in adapter.read_state(file).items() if k not in JIT_EXTRAS}
    if any(not k.startswith("visual.") for k in state):
        check_text_tower(state, file)
    config = vision_config(state, file)
    tower = CLIPVisionModelWithProjection(config)
    load_into(tower, visual_to_transformers(state), file, adapter.arch)
    return tower.vision_model


class D3(ExpertAdapter):
    """``--model d3 --model-args path=ckpt/classifier.pth,clip_path=<ViT-L/14 state dict or HF folder>``."""

    arch = "d3"
    published = "github.com/BigAandSmallq/D3 (ckpt/classifier.pth, in the repository)"

    def __init__(
        self,
        path: str | None = None,
        clip_path: str | None = None,
        seed: str = "0",
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "16",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        self.seed = int_arg(self.arch, "seed", seed, minimum=0)
        file = self.checkpoint_path(path)
        state = self.read_state(file)
        if not clip_path:
            raise SpotfakeError(
                "d3 needs clip_path=<OpenAI ViT-L/14 state dict (clip.load(...)[0].state_dict()) or a local "
                "openai/clip-vit-large-patch14 folder> (the frozen backbone)"
            )
        backbone = Path(clip_path).expanduser()
        if backbone.is_file():
            vision = openai_clip_tower(self, backbone)
        else:
            from .univfd import backbone_files, load_backbone

            vision = load_backbone(clip_path).vision_model
            for weight_file in backbone_files(clip_path):
                self.add_file(weight_file)
        if vision.config.image_size != SIZE:
            raise SpotfakeError(
                f"{clip_path}: a CLIP tower for {vision.config.image_size}px; D3 runs at {SIZE}"
            )
        head = D3Head(int(vision.config.hidden_size))
        load_into(head, state, file, self.arch)
        self.options |= {
            "seed": self.seed,
            "shuffle": f"{GRANULARITY}x{GRANULARITY} tiles, one permutation per sample seeded by sha256(seed, id)",
            "clip": config_summary(vision.config),
        }
        self.use(D3Net(vision, head), SPEC)

    def pair(self, image: Any, sample_id: str) -> torch.Tensor:
        """(6, 224, 224): the normalised image, then its tiles shuffled by the sample's permutation."""
        x = self._transform(image)
        return torch.cat([x, shuffle_tiles(x, GRANULARITY, sample_generator(self.seed, sample_id))])

    def preprocess(self, image: Any) -> torch.Tensor:
        """Without a sample id (scripts, :meth:`scores`): the permutation of the empty id."""
        return self.pair(image, "")

    def preprocess_item(self, item: Item) -> torch.Tensor:
        return self.pair(item.images[0], str(item.sample.id))
