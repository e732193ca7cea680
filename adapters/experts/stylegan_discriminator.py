"""The StyleGAN (v1) discriminator as genforce converts it to PyTorch, the network LGrad differentiates.

LGrad's ``img2gad_pytorch/gen_imggrad.py`` (github.com/chuangchuangtan/LGrad, commit 7cb5973) builds it with
``build_model(gan_type='stylegan', module='discriminator', resolution=256, label_size=0,
image_channels=3)`` (lines 51-56) and loads ``karras2019stylegan-bedrooms-256x256_discriminator.pth`` as a
bare state dict, strictly (line 57). Its ``models/stylegan_discriminator.py`` is byte for byte genforce's
(github.com/genforce/genforce ``models/stylegan_discriminator.py``, commit 197feee), whose converter
(``converters/stylegan_converter.py:146-165``) fills the state dict from the TensorFlow pickle. The
architecture, in that file's terms (line numbers of ``stylegan_discriminator.py``):

- one block per resolution from ``resolution`` down to 4 (``block = log2(resolution) - log2(res)``,
  lines 99-101); ``nf(res) = min(fmaps_base // res, fmaps_max)``, 16384 and 512 (lines 65-66, 178-180);
- ``input{block}``: a 1x1 from-RGB conv to ``nf(res)``, leaky ReLU 0.2 (lines 104-110);
- above 4x4, ``layer{2 block}``: 3x3 conv ``nf(res) -> nf(res)``; ``layer{2 block + 1}``: blur with the
  normalised ``[1, 2, 1]`` outer product (a ``blur.kernel`` buffer of shape ``(C, 1, 3, 3)`` that the
  state dict carries, lines 327-341), then a 3x3 conv to ``nf(res // 2)`` that halves the size: "fused"
  at 128 and above (the kernel padded by one and averaged over 2x2 shifts into a 4x4, stride 2, lines
  117-121 and 27, 455-458), else the conv followed by a 2x2 average pool (lines 411-414, 464);
- at 4x4, ``layer{2 block}``: the minibatch standard-deviation layer (group size 4, one new channel,
  epsilon 1e-8, lines 63-64, 232-254) then a 3x3 conv ``nf(4) + 1 -> nf(4)``; ``layer{2 block + 1}``: a
  dense ``nf(4) * 16 -> nf(2)`` over the NCHW-flattened features (lines 147-151, 524-528); then
  ``layer{2 block + 2}``: a linear dense ``nf(2) -> 1`` (lines 164-170);
- every weight is stored unscaled and multiplied at run time by ``gain / sqrt(fan_in)``, gain sqrt(2),
  1 for the last dense (equalised learning rate, lines 425-434, 453, 500-508); biases unscaled;
  activations leaky ReLU 0.2 except the last (lines 442-448);
- a ``lod`` buffer (level of detail, a scalar) picks the input block and fades between two during
  progressive training (lines 96, 191, 211-223); the released networks are trained to full
  resolution.

Here it is written anew with the same state-dict keys and shapes; a JSON file beside the weights
(``<stem>.json``) may override ``resolution``, ``fmaps_base`` and ``fmaps_max`` for a scaled-down network.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from spotfake.harness.errors import SpotfakeError

from .arch_config import architecture_config
from .checkpoints import load_checkpoint, load_into, state_dict_from

ARCH = "stylegan-discriminator"
DEFAULT_CONFIG: dict[str, Any] = {"arch": ARCH, "resolution": 256, "fmaps_base": 16 << 10, "fmaps_max": 512}
"""genforce's ``StyleGANDiscriminator`` defaults at LGrad's resolution."""
FUSED_FROM = 128
"""Resolutions at or above this halve with one strided conv ("fused scale" 'auto')."""
MBSTD_GROUP = 4
SLOPE = 0.2
GAIN = math.sqrt(2.0)


def minibatch_stddev(x: torch.Tensor, group: int = MBSTD_GROUP, eps: float = 1e-8) -> torch.Tensor:
    """``x`` with one more channel: the standard deviation over groups of ``min(group, N)`` samples,
    averaged over channels and pixels (images ``i``, ``i + N/g``, ... share a group, as ``view(g, -1, ...)``
    arranges them). One image alone gets the constant ``sqrt(eps)``."""
    g = min(group, x.shape[0])
    n, c, h, w = x.shape
    grouped = x.reshape(g, n // g, c, h, w)
    spread = (grouped - grouped.mean(dim=0, keepdim=True)).square().mean(dim=0)
    stat = (spread + eps).sqrt().mean(dim=(1, 2, 3))  # one value per member of the group
    extra = stat.reshape(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, extra], dim=1)


class Blur(nn.Module):
    """A depthwise 3x3 blur whose kernel is a buffer (``blur.kernel`` in the state dict)."""

    kernel: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = torch.outer(taps, taps) / 16.0
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel, padding=1, groups=x.shape[1])


class ScaledConv(nn.Module):
    """A conv (equalised learning rate) then leaky ReLU; optionally the minibatch-std channel before it,
    and a halving of the size (blur, then a strided 4x4 kernel or a 2x2 average pool)."""

    def __init__(self, cin: int, cout: int, size: int = 3, *, halve: str = "", mbstd: bool = False) -> None:
        super().__init__()
        self.mbstd = mbstd
        self.halve = halve
        cin += 1 if mbstd else 0
        self.weight = nn.Parameter(torch.randn(cout, cin, size, size))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = GAIN / math.sqrt(cin * size * size)
        self.blur = Blur(cin) if halve else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mbstd:
            x = minibatch_stddev(x)
        if self.blur is not None:
            x = self.blur(x)
        weight = self.weight * self.scale
        if self.halve == "fused":
            # a 4x4 kernel: the 3x3 one zero-padded to 5x5, its four 4x4 windows (shifted by 0 or 1 down
            # and right) averaged, summed in the order genforce sums them
            padded = F.pad(weight, (1, 1, 1, 1))
            shifts = ((1, 1), (0, 1), (1, 0), (0, 0))
            windows = [padded[:, :, dy : dy + 4, dx : dx + 4] for dy, dx in shifts]
            folded = (windows[0] + windows[1] + windows[2] + windows[3]) * 0.25
            x = F.conv2d(x, folded, self.bias, stride=2, padding=1)
        else:
            x = F.conv2d(x, weight, self.bias, padding=weight.shape[-1] // 2)
            if self.halve == "pool":
                x = F.avg_pool2d(x, 2)
        return F.leaky_relu(x, SLOPE)


class ScaledDense(nn.Module):
    """A fully connected layer (equalised learning rate) over the flattened input; leaky ReLU unless
    ``linear``."""

    def __init__(self, cin: int, cout: int, *, gain: float = GAIN, linear: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = gain / math.sqrt(cin)
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x.flatten(1), self.weight * self.scale, self.bias)
        return y if self.linear else F.leaky_relu(y, SLOPE)


class StyleGANDiscriminator(nn.Module):
    """StyleGAN's discriminator for ``resolution`` x ``resolution`` RGB in [-1, 1]; one logit per image."""

    lod: torch.Tensor

    def __init__(self, resolution: int = 256, fmaps_base: int = 16 << 10, fmaps_max: int = 512) -> None:
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise SpotfakeError(f"{ARCH}: resolution {resolution} is not a power of two of at least 8")
        self.resolution = resolution
        self.register_buffer("lod", torch.zeros(()))
        self.blocks = int(math.log2(resolution)) - 1  # resolutions resolution, ..., 8, 4

        def nf(res: int) -> int:
            return min(fmaps_base // res, fmaps_max)

        for block in range(self.blocks):
            res = resolution >> block
            self.add_module(f"input{block}", ScaledConv(3, nf(res), size=1))
            if res > 4:
                halve = "fused" if res >= FUSED_FROM else "pool"
                self.add_module(f"layer{2 * block}", ScaledConv(nf(res), nf(res)))
                self.add_module(f"layer{2 * block + 1}", ScaledConv(nf(res), nf(res // 2), halve=halve))
            else:
                self.add_module(f"layer{2 * block}", ScaledConv(nf(4), nf(4), mbstd=True))
                self.add_module(f"layer{2 * block + 1}", ScaledDense(nf(4) * 16, nf(2)))
        self.add_module(f"layer{2 * self.blocks}", ScaledDense(nf(2), 1, gain=1.0, linear=True))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, R, R) in [-1, 1] -> (N, 1) logits, reading the input at the stored level of detail."""
        lod = float(self.lod)
        x = image
        features: torch.Tensor | None = None
        for block in range(self.blocks):
            if block <= lod < block + 1:
                features = self.get_submodule(f"input{block}")(x)
            elif block - 1 < lod < block and features is not None:
                alpha = lod - math.floor(lod)
                features = self.get_submodule(f"input{block}")(x) * alpha + features * (1 - alpha)
            if lod < block + 1 and features is not None:
                features = self.get_submodule(f"layer{2 * block + 1}")(
                    self.get_submodule(f"layer{2 * block}")(features)
                )
            if lod > block:
                x = F.avg_pool2d(x, 2)
        if features is None:
            raise SpotfakeError(
                f"{ARCH}: level of detail {lod} is beyond this network's {self.blocks} blocks"
            )
        return self.get_submodule(f"layer{2 * self.blocks}")(features)


def load_discriminator(file: Path, device: torch.device | str = "cpu") -> StyleGANDiscriminator:
    """The discriminator in ``file`` (LGrad's bare state dict, or genforce's converter output, which holds
    it under ``"discriminator"``), read without unpickling and loaded strictly; frozen, in eval mode."""
    config = architecture_config(file, DEFAULT_CONFIG, ARCH)
    network = StyleGANDiscriminator(
        resolution=int(config["resolution"]),
        fmaps_base=int(config["fmaps_base"]),
        fmaps_max=int(config["fmaps_max"]),
    )
    obj, _ = load_checkpoint(file)
    state = state_dict_from(obj, file, containers=("discriminator",), strip=())
    load_into(network, state, file, ARCH)
    lod = float(network.lod)
    if not 0 <= lod <= network.blocks - 1:
        raise SpotfakeError(f"{file}: lod {lod} is outside 0..{network.blocks - 1}; is it a discriminator?")
    return network.requires_grad_(False).eval().to(device)


def discriminator_config(network: StyleGANDiscriminator) -> dict[str, Any]:
    """What the map depends on besides the weights: the input resolution and the level of detail."""
    return {"resolution": network.resolution, "lod": float(network.lod)}
