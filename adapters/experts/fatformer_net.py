"""FatFormer's network (Liu et al., CVPR 2024, github.com/Michel-liu/FatFormer ``models/clip_models.py``
and ``models/clip/model.py``), written here on open_clip's CLIP, whose module names are OpenAI's.

The pieces, each under the authors' attribute names so their state dict loads unchanged:

- ``clip_model``: an OpenAI-layout CLIP (open_clip ``CLIP`` with QuickGELU). ``num_vit_adapter`` of the
  image tower's residual blocks (every ``layers // n``-th, the last included) carry a
  ``forgery_aware_adapter`` (:class:`ForgeryAwareAdapter`) whose output is added beside the MLP:
  ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)) + adapter(x)``. The image tower returns every token after
  ``ln_post``, projected by ``proj``.
- ``language_guided_alignment`` (:class:`LanguageGuidedAlignment`): the learned context tokens, shifted per
  image by cross-attention to the image tokens, between the stored ``token_prefix`` (SOS) and
  ``token_suffix`` (class name, ".", EOT, padding) embeddings of the prompts "X ... X real." and
  "X ... X fake.".
- ``image_encoder``, ``text_encoder.{transformer,positional_embedding,ln_final,text_projection}`` and
  ``logit_scale``: the same modules and parameters again (the authors keep these aliases, so their state
  dict holds each tensor under both names).
- the text-guided interactor (``text_guided_interactor``, ``norm1``, ``linear1``, ``linear2``, ``norm2``).

Logits (their ``CLIPModel.forward``): ``s * <cls, t_c>`` + ``s * <mean(interacted patches), t_c>`` over the
two classes (real, fake), cosine similarities with ``s = exp(logit_scale)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

CLASSNAMES = ("real", "fake")
"""``CLIPModel`` builds its prompts for ``classnames=["real", "fake"]`` (class 1 is fake)."""


class HaarDWT(nn.Module):
    """One level of a 2-D DWT with length-2 filters and even sizes, as ``pytorch_wavelets.DWTForward(J=1,
    wave='haar')``: its four buffers (the analysis filters, reversed for ``conv2d``), rows then columns.
    Returns (N, C, 4, H/2, W/2): LL, then the LH, HL, HH bands in ``DWTForward``'s order."""

    def __init__(self) -> None:
        super().__init__()
        lo, hi = haar_filters()
        for name, taps, shape in (
            ("h0_col", lo, (1, 1, 2, 1)),
            ("h1_col", hi, (1, 1, 2, 1)),
            ("h0_row", lo, (1, 1, 1, 2)),
            ("h1_row", hi, (1, 1, 1, 2)),
        ):
            self.register_buffer(name, taps.flip(0).reshape(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, height, width = x.shape
        flat = x.reshape(n * c, 1, height, width)
        rows = [F.conv2d(flat, getattr(self, f"h{i}_row"), stride=(1, 2)) for i in (0, 1)]
        bands = [F.conv2d(r, getattr(self, f"h{i}_col"), stride=(2, 1)) for r in rows for i in (0, 1)]
        return torch.stack(bands, dim=1).reshape(n, c, 4, height // 2, width // 2)


class HaarIDWT(nn.Module):
    """The inverse, as ``pytorch_wavelets.DWTInverse(wave='haar')``: its four synthesis-filter buffers,
    transposed convolutions over columns then rows. Takes the (N, C, 4, h, w) bands of :class:`HaarDWT`."""

    def __init__(self) -> None:
        super().__init__()
        lo, hi = haar_filters()
        for name, taps, shape in (
            ("g0_col", lo, (1, 1, 2, 1)),
            ("g1_col", hi.flip(0), (1, 1, 2, 1)),
            ("g0_row", lo, (1, 1, 1, 2)),
            ("g1_row", hi.flip(0), (1, 1, 1, 2)),
        ):
            self.register_buffer(name, taps.reshape(shape))

    def _up(self, lo: torch.Tensor, hi: torch.Tensor, axis: str) -> torch.Tensor:
        stride = (2, 1) if axis == "col" else (1, 2)
        low = F.conv_transpose2d(lo, getattr(self, f"g0_{axis}"), stride=stride)
        return low + F.conv_transpose2d(hi, getattr(self, f"g1_{axis}"), stride=stride)

    def forward(self, bands: torch.Tensor) -> torch.Tensor:
        n, c, _, height, width = bands.shape
        b = bands.reshape(n * c, 4, height, width)
        low = self._up(b[:, 0:1], b[:, 1:2], "col")
        high = self._up(b[:, 2:3], b[:, 3:4], "col")
        return self._up(low, high, "row").reshape(n, c, 2 * height, 2 * width)


def haar_filters() -> tuple[torch.Tensor, torch.Tensor]:
    """PyWavelets' ``haar`` decomposition filters ``dec_lo``, ``dec_hi`` (float32, as the buffers are)."""
    half = 0.5**0.5
    return torch.tensor([half, half]), torch.tensor([-half, half])


class ForgeryAwareAdapter(nn.Module):
    """The forgery-aware adapter beside one image-tower block (their ``ForgeryAwareAdapterLayer``).

    Image branch: 1x1 ``Conv1d`` down to ``bottleneck``, ReLU, back up, times ``scale`` (0.1). Frequency
    branch on the patch tokens as a grid: Haar DWT, ``GroupNorm`` over (bands, positions), attention across
    the 4 bands at each position (``intra_band``), then across positions within each band
    (``inter_band``), each with a residual and LayerNorm, a ReLU FFN, inverse DWT; zero on the class token;
    times the learned ``freq_scale``. Dropout is inactive at test time.
    """

    def __init__(self, width: int, bottleneck: int, heads: int, groups: int, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.first_conv_layer = nn.Conv1d(width, bottleneck, kernel_size=1)
        self.second_conv_layer = nn.Conv1d(bottleneck, width, kernel_size=1)
        self.freq_scale = nn.Parameter(torch.zeros(1))
        self.dwt_transform = HaarDWT()
        self.idwt_transform = HaarIDWT()
        self.dwt_norm = nn.GroupNorm(groups, width)
        self.intra_band = nn.MultiheadAttention(width, heads)
        self.norm_intra = nn.LayerNorm(width)
        self.inter_band = nn.MultiheadAttention(width, heads)
        self.norm_inter = nn.LayerNorm(width)
        self.linear1 = nn.Linear(width, 4 * width)
        self.linear2 = nn.Linear(4 * width, width)
        self.norm3 = nn.LayerNorm(width)

    def frequency(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L, D) tokens (class token first) -> (B, L, D): the frequency branch, zero on the class token."""
        batch, count, width = tokens.shape
        grid = round((count - 1) ** 0.5)
        patches = tokens[:, 1:].transpose(1, 2).reshape(batch, width, grid, grid)
        bands = self.dwt_transform(patches)  # (B, D, 4, g/2, g/2)
        half = bands.shape[-1]
        x = self.dwt_norm(bands.flatten(-2)).permute(2, 3, 0, 1)  # (4, positions, B, D)
        # across the 4 bands at each position: sequence = bands, batch = (position, image)
        seq = x.reshape(4, -1, width)
        x = self.norm_intra(seq + self.intra_band(seq, seq, seq, need_weights=False)[0]).reshape(x.shape)
        # across positions within each band: sequence = positions, batch = (band, image)
        seq = x.transpose(0, 1).reshape(half * half, -1, width)
        x = self.norm_inter(seq + self.inter_band(seq, seq, seq, need_weights=False)[0])
        x = self.norm3(x + self.linear2(F.relu(self.linear1(x))))  # (positions, 4 * B, D)
        bands = x.reshape(half, half, 4, batch, width).permute(3, 4, 2, 0, 1)
        grid_out = self.idwt_transform(bands).flatten(2).transpose(1, 2)  # (B, g*g, D)
        return torch.cat([torch.zeros_like(tokens[:, :1]), grid_out], dim=1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, D): ``scale * image branch + freq_scale * frequency branch``."""
        down = F.relu(self.first_conv_layer(tokens.transpose(1, 2)))
        image = self.second_conv_layer(down).transpose(1, 2) * self.scale
        return image + self.frequency(tokens) * self.freq_scale


class FFNBlock(nn.Module):
    """Cross-attention + residual + ``norm1``, then a ReLU FFN + residual + ``norm2``, under the attribute
    names both of FatFormer's alignment modules use (the attention module's name is given)."""

    def __init__(self, width: int, heads: int, attention: str) -> None:
        super().__init__()
        self._attention = attention
        setattr(self, attention, nn.MultiheadAttention(width, heads))
        self.norm1 = nn.LayerNorm(width)
        self.linear1 = nn.Linear(width, 4 * width)
        self.linear2 = nn.Linear(4 * width, width)
        self.norm2 = nn.LayerNorm(width)

    def attend(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Sequence-first (Lq, B, D) queries attending to (Lm, B, D) memory."""
        attention = getattr(self, self._attention)
        x = self.norm1(query + attention(query, memory, memory, need_weights=False)[0])
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


class LanguageGuidedAlignment(FFNBlock):
    """The prompt learner: ``ctx`` (n_ctx, D) shifted per image by the patch-based enhancer
    (``patch_basaed_enhancer``, the authors' spelling), placed between ``token_prefix`` and
    ``token_suffix``."""

    token_prefix: torch.Tensor
    token_suffix: torch.Tensor

    def __init__(self, width: int, heads: int, n_ctx: int, context_length: int) -> None:
        super().__init__(width, heads, "patch_basaed_enhancer")
        n_cls = len(CLASSNAMES)
        self.ctx = nn.Parameter(torch.zeros(n_ctx, width))
        self.register_buffer("token_prefix", torch.zeros(n_cls, 1, width))
        self.register_buffer("token_suffix", torch.zeros(n_cls, context_length - 1 - n_ctx, width))

    def forward(self, image_tokens: torch.Tensor) -> torch.Tensor:
        """(B, L, E) projected image tokens -> (B, n_cls, context_length, E) prompt embeddings."""
        batch = image_tokens.shape[0]
        query = self.ctx[:, None].expand(-1, batch, -1)
        shifted = self.attend(query, image_tokens.transpose(0, 1)).transpose(0, 1)  # (B, n_ctx, E)
        n_cls = self.token_prefix.shape[0]
        return torch.cat(
            [
                self.token_prefix.expand(batch, -1, -1, -1),
                shifted[:, None].expand(-1, n_cls, -1, -1),
                self.token_suffix.expand(batch, -1, -1, -1),
            ],
            dim=2,
        )


class TextEncoder(nn.Module):
    """Their ``TextEncoder``: the CLIP text tower on given prompt embeddings, feature at the EOT token."""

    def __init__(self, clip: Any) -> None:
        super().__init__()
        self.transformer = clip.transformer
        self.positional_embedding = clip.positional_embedding
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection

    def forward(self, prompts: torch.Tensor, eot: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        """(N, T, D) prompts, (N,) EOT positions, the (T, T) causal mask -> (N, E)."""
        x = self.transformer(prompts + self.positional_embedding, attn_mask=causal)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), eot] @ self.text_projection


class FatFormerNet(FFNBlock):
    """Their ``CLIPModel``: the adapted CLIP, the prompt learner, the text-guided interactor (this module's
    own ``text_guided_interactor``/``norm1``/``linear1``/``linear2``/``norm2``); returns the two logits."""

    eot: torch.Tensor

    def __init__(self, clip: Any, adapters: dict[int, ForgeryAwareAdapter], n_ctx: int, heads: int) -> None:
        width = clip.ln_final.weight.shape[0]
        super().__init__(width, heads, "text_guided_interactor")
        for index, adapter in adapters.items():
            clip.visual.transformer.resblocks[index].forgery_aware_adapter = adapter
        self.clip_model = clip
        context = clip.positional_embedding.shape[0]
        self.language_guided_alignment = LanguageGuidedAlignment(width, heads, n_ctx, context)
        self.image_encoder = clip.visual
        self.text_encoder = TextEncoder(clip)
        self.logit_scale = clip.logit_scale
        self.register_buffer("eot", eot_positions(n_ctx, context), persistent=False)

    def encode_image(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 1 + grid^2, E): every token after ``ln_post``, projected (``return_full``)."""
        visual = self.image_encoder
        x = visual.conv1(image).flatten(2).transpose(1, 2)
        cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = visual.ln_pre(torch.cat([cls, x], dim=1) + visual.positional_embedding.to(x.dtype))
        for block in visual.transformer.resblocks:
            x = x + block.ls_1(block.attention(block.ln_1(x)))
            out = x + block.ls_2(block.mlp(block.ln_2(x)))
            adapter = getattr(block, "forgery_aware_adapter", None)
            x = out if adapter is None else out + adapter(x)
        return visual.ln_post(x) @ visual.proj

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 2) logits (real, fake)."""
        tokens = self.encode_image(image)
        prompts = self.language_guided_alignment(tokens)  # (B, n_cls, T, E)
        batch, n_cls = prompts.shape[:2]
        eot = self.eot.repeat(batch)
        text = self.text_encoder(prompts.flatten(0, 1), eot, self.clip_model.attn_mask)
        text = text.reshape(batch, n_cls, -1)
        text_unit = text / text.norm(dim=-1, keepdim=True)
        scale = self.logit_scale.exp()
        cls = tokens[:, 0] / tokens[:, 0].norm(dim=-1, keepdim=True)
        logits = scale * torch.einsum("be,bce->bc", cls, text_unit)
        # text-guided interactor: the patch tokens attend to the two class features
        patches = self.attend(tokens[:, 1:].transpose(0, 1), text.transpose(0, 1)).mean(dim=0)
        patches = patches / patches.norm(dim=-1, keepdim=True)
        return logits + scale * torch.einsum("be,bce->bc", patches, text_unit)


def eot_positions(n_ctx: int, context_length: int) -> torch.Tensor:
    """Where each prompt "X ... X <class>." ends: the argmax of its CLIP token ids (the EOT token has the
    highest id), with open_clip's copy of OpenAI's BPE tokenizer, as their ``TextEncoder`` indexes it."""
    from open_clip.tokenizer import tokenize

    prompts = [" ".join(["X"] * n_ctx + [f"{name}."]) for name in CLASSNAMES]
    return tokenize(prompts, context_length=context_length).argmax(dim=-1)
