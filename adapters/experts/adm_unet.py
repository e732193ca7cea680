"""The ADM UNet of Dhariwal & Nichol ("Diffusion Models Beat GANs on Image Synthesis", 2021), as published
in github.com/openai/guided-diffusion (MIT licence) ``guided_diffusion/unet.py`` ``UNetModel``, with the
state-dict names and shapes of its released checkpoints (``input_blocks.*``, ``middle_block.*``,
``output_blocks.*``, ``time_embed.*``, ``out.*``), so that ``256x256_diffusion_uncond.pt`` loads strictly.

No maintained library ships this network under these names: diffusers' ``UNet2DModel`` names its layers
``down_blocks.*.resnets.*`` and splits q/k/v differently (diffusers converts ADM-style checkpoints with a
one-off script instead), so the architecture is written here from the published structure:

- ``time_embed``: Linear(C, 4C), SiLU, Linear(4C, 4C) on a sinusoidal embedding of the integer timestep
  (cos half first, then sin; max period 10000) (``nn.py`` ``timestep_embedding``).
- residual blocks: ``in_layers`` (GroupNorm(32), SiLU, conv 3x3), ``emb_layers`` (SiLU, Linear to 2 x out
  with scale-shift norm), ``out_layers`` (GroupNorm, SiLU, Dropout, conv 3x3), ``skip_connection`` (1x1
  conv when the width changes); with ``resblock_updown`` the down/up-sampling blocks are residual blocks
  that average-pool / nearest-upsample between the first activation and the first conv.
- attention blocks: GroupNorm, ``qkv`` (1x1 Conv1d to 3C), the "legacy" head split (heads first, then q/k/v)
  unless ``use_new_attention_order``, q and k each scaled by ch^-1/4, softmax in float32, ``proj_out``.
- GroupNorm always computes in float32 and casts back (``nn.py`` ``GroupNorm32``); with fp16 only the
  convolutions of the three torsos hold float16 weights (``fp16_util.py`` ``convert_module_to_f16``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from spotfake.harness.errors import SpotfakeError

CHANNEL_MULT_BY_SIZE: dict[int, list[float]] = {
    512: [0.5, 1, 1, 2, 2, 4, 4],
    256: [1, 1, 2, 2, 4, 4],
    128: [1, 1, 2, 3, 4],
    64: [1, 2, 3, 4],
}
"""``script_util.py`` ``create_model``: the width multipliers when ``channel_mult`` is not given."""


class FloatGroupNorm(nn.GroupNorm):
    """GroupNorm(32 groups) computed in float32 whatever the input dtype, cast back."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).type(x.dtype)


def group_norm(channels: int) -> FloatGroupNorm:
    if channels % 32:
        raise SpotfakeError(f"ADM config: {channels} channels cannot be split into 32 norm groups")
    return FloatGroupNorm(32, channels)


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding (N, dim) of N timesteps: cos of each frequency, then sin (zero pad if dim odd)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    angles = timesteps[:, None].float() * freqs.to(timesteps.device)[None]
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)
    return embedding


class Resample(nn.Module):
    """Downsample (stride-2 conv ``op`` or 2x2 average pool) or Upsample (nearest x2, then conv ``conv``)."""

    def __init__(self, channels: int, up: bool, with_conv: bool) -> None:
        super().__init__()
        self.up = up
        self.with_conv = with_conv
        if with_conv and up:
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        elif with_conv:
            self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            return self.conv(x) if self.with_conv else x
        return self.op(x) if self.with_conv else F.avg_pool2d(x, kernel_size=2, stride=2)


class ResBlock(nn.Module):
    """A residual block conditioned on the timestep embedding; optionally resamples (``up``/``down``)."""

    def __init__(
        self, channels: int, emb: int, out: int, scale_shift: bool, resample: str = "", dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.scale_shift = scale_shift
        self.in_layers = nn.Sequential(
            group_norm(channels), nn.SiLU(), nn.Conv2d(channels, out, 3, padding=1)
        )
        self.resample = Resample(channels, up=resample == "up", with_conv=False) if resample else None
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb, 2 * out if scale_shift else out))
        self.out_layers = nn.Sequential(
            group_norm(out), nn.SiLU(), nn.Dropout(p=dropout), nn.Conv2d(out, out, 3, padding=1)
        )
        self.skip_connection: nn.Module = nn.Identity() if out == channels else nn.Conv2d(channels, out, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.resample is not None:
            h = self.resample(self.in_layers[:-1](x))
            x = self.resample(x)
            h = self.in_layers[-1](h)
        else:
            h = self.in_layers(x)
        emb_out = self.emb_layers(emb).type(h.dtype)[..., None, None]
        if self.scale_shift:
            scale, shift = torch.chunk(emb_out, 2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            h = self.out_layers[1:](h)
        else:
            h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h


def qkv_attention(qkv: torch.Tensor, heads: int, legacy: bool) -> torch.Tensor:
    """Attention over the T positions of ``qkv`` (N, 3*H*ch, T) -> (N, H*ch, T); q and k scaled by ch^-1/4."""
    n, width, length = qkv.shape
    ch = width // (3 * heads)
    if legacy:  # heads first, then q/k/v within each head
        q, k, v = qkv.reshape(n * heads, ch * 3, length).split(ch, dim=1)
    else:  # q/k/v first, then heads
        q, k, v = (part.reshape(n * heads, ch, length) for part in qkv.chunk(3, dim=1))
    scale = 1 / math.sqrt(math.sqrt(ch))
    weight = torch.einsum("bct,bcs->bts", q * scale, k * scale)
    weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
    return torch.einsum("bts,bcs->bct", weight, v).reshape(n, -1, length)


class AttentionBlock(nn.Module):
    """Self-attention over all spatial positions, added to the input."""

    def __init__(self, channels: int, heads: int, head_channels: int, legacy: bool) -> None:
        super().__init__()
        if head_channels != -1:
            if channels % head_channels:
                raise SpotfakeError(f"ADM config: {channels} channels are not a multiple of {head_channels}")
            heads = channels // head_channels
        self.heads = heads
        self.legacy = legacy
        self.norm = group_norm(channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.proj_out = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *spatial = x.shape
        flat = x.reshape(n, c, -1)
        h = self.proj_out(qkv_attention(self.qkv(self.norm(flat)), self.heads, self.legacy))
        return (flat + h).reshape(n, c, *spatial)


class EmbedSequential(nn.Sequential):
    """Layers applied in order; residual blocks also get the timestep embedding."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class ADMUNet(nn.Module):
    """``UNetModel`` of guided-diffusion for an unconditional model: ``forward(x, t)`` -> (N, out, H, W)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        size, width = int(config["image_size"]), int(config["num_channels"])
        mult: list[float] = list(config["channel_mult"] or CHANNEL_MULT_BY_SIZE.get(size, []))
        if not mult:
            raise SpotfakeError(f"ADM config: no default channel_mult for image_size {size}; give one")
        attention = {size // int(res) for res in config["attention_resolutions"]}
        blocks = int(config["num_res_blocks"])
        heads, head_ch = int(config["num_heads"]), int(config["num_head_channels"])
        up_heads = heads if int(config["num_heads_upsample"]) == -1 else int(config["num_heads_upsample"])
        legacy = not config["use_new_attention_order"]
        shift, updown = bool(config["use_scale_shift_norm"]), bool(config["resblock_updown"])
        drop = float(config.get("dropout", 0.0))
        emb = 4 * width
        self.model_channels = width
        self.torso_dtype = torch.float32
        self.time_embed = nn.Sequential(nn.Linear(width, emb), nn.SiLU(), nn.Linear(emb, emb))

        def res(cin: int, cout: int, resample: str = "") -> ResBlock:
            return ResBlock(cin, emb, cout, shift, resample, drop)

        def resample(ch: int, up: bool) -> nn.Module:
            return res(ch, ch, "up" if up else "down") if updown else Resample(ch, up, with_conv=True)

        ch = first = int(mult[0] * width)
        self.input_blocks = nn.ModuleList([EmbedSequential(nn.Conv2d(3, ch, 3, padding=1))])
        skips, ds = [ch], 1
        for level, m in enumerate(mult):
            for _ in range(blocks):
                layers: list[nn.Module] = [res(ch, int(m * width))]
                ch = int(m * width)
                if ds in attention:
                    layers.append(AttentionBlock(ch, heads, head_ch, legacy))
                self.input_blocks.append(EmbedSequential(*layers))
                skips.append(ch)
            if level != len(mult) - 1:
                self.input_blocks.append(EmbedSequential(resample(ch, up=False)))
                skips.append(ch)
                ds *= 2
        self.middle_block = EmbedSequential(
            res(ch, ch), AttentionBlock(ch, heads, head_ch, legacy), res(ch, ch)
        )
        self.output_blocks = nn.ModuleList()
        for level, m in list(enumerate(mult))[::-1]:
            for i in range(blocks + 1):
                layers = [res(ch + skips.pop(), int(m * width))]
                ch = int(m * width)
                if ds in attention:
                    layers.append(AttentionBlock(ch, up_heads, head_ch, legacy))
                if level and i == blocks:
                    layers.append(resample(ch, up=True))
                    ds //= 2
                self.output_blocks.append(EmbedSequential(*layers))
        out = 6 if config["learn_sigma"] else 3
        self.out = nn.Sequential(group_norm(ch), nn.SiLU(), nn.Conv2d(first, out, 3, padding=1))

    def half_torso(self) -> None:
        """float16 weights for the convolutions of the three torsos, as ``convert_to_fp16`` does."""
        self.torso_dtype = torch.float16
        for torso in (self.input_blocks, self.middle_block, self.output_blocks):
            for module in torso.modules():
                if isinstance(module, (nn.Conv1d, nn.Conv2d)):
                    module.half()

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels))
        h = x.type(self.torso_dtype)
        skips = []
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h.type(x.dtype))
