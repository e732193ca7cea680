"""FreqNet: frequency-space learning in a small ResNet (Tan et al., "Frequency-Aware Deepfake Detection:
Improving Generalizability through Frequency Space Learning", AAAI 2024,
github.com/chuangchuangtan/FreqNet-DeepfakeDetection).

The authors' repository holds only a README; the code used here is the copy that AIGIBench runs
(``HorizonTEL/AIGIBench: detector_codes/FreqNet-DeepfakeDetection-main/networks/freqnet.py``), whose
retrained checkpoints AIGIBench publishes. The network alternates four blocks of "high-frequency
representation" steps with the first two ResNet-50 stages:

- ``hfreq_wh``: 2-D FFT (ortho), zero the centred low-frequency square (half the height and width), inverse,
  real part, ReLU; ``hfreq_c``: the same along the channel axis;
- a 1x1 convolution given as raw ``weightN``/``biasN`` parameters (stride 1 or 2), ReLU;
- ``fcl``: 1x1 convolutions ``realconvN``/``imagconvN`` on the real and imaginary parts of the centred
  2-D spectrum, inverse FFT, real part, ReLU.

Checkpoint mapping: a bare state dict (their ``test.py``: ``model.load_state_dict(torch.load(path),
strict=True)``; their trainer also saves the bare ``state_dict()``) with exactly this module's names:
``weight1..4``, ``bias1..4``, ``realconv1..4.weight``, ``imagconv1..4.weight``, ``layer1.*``, ``layer2.*``,
``fc1.weight`` (1, 512), ``fc1.bias``; loads unchanged (a ``module.`` prefix or a ``{"model": ...}``
wrapper is accepted too). p(fake) = sigmoid(logit).

Preprocessing, AIGIBench protocol (their ``test.py`` sets ``no_resize=False, no_crop=True``; the comment says
resizing "is required during batch detection"): ``transforms.Resize((256, 256))`` (PIL bilinear), no crop,
ImageNet mean/std. ``resize=none`` feeds the whole image (batched by size here).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .arch_config import architecture_config
from .base import parse_size
from .checkpoints import load_into
from .expert import ExpertAdapter
from .preprocess import Preprocess
from .resnet_stages import bottleneck_stage, two_stage_shape

DEFAULT_CONFIG: dict[str, Any] = {
    "arch": "freqnet",
    "layers": [3, 4],  # bottlenecks in the two ResNet-50 stages
    "width": 64,  # channels of the first frequency blocks; the stages give 4 * width and 8 * width
}
SCALE = 4
"""The zeroed low-frequency band spans ``2 * (n // SCALE)`` of each centred axis (their ``scale=4``)."""


def hfreq_wh(x: torch.Tensor) -> torch.Tensor:
    """Zero the centred low spatial frequencies, back to pixels, real part, ReLU."""
    x = torch.fft.fftshift(torch.fft.fft2(x, norm="ortho"), dim=(-2, -1))
    height, width = x.shape[-2:]
    rows = slice(height // 2 - height // SCALE, height // 2 + height // SCALE)
    x[..., rows, width // 2 - width // SCALE : width // 2 + width // SCALE] = 0.0
    x = torch.fft.ifft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho")
    return F.relu(x.real)


def hfreq_c(x: torch.Tensor) -> torch.Tensor:
    """Zero the centred low frequencies of the FFT along channels, back, real part, ReLU."""
    x = torch.fft.fftshift(torch.fft.fft(x, dim=1, norm="ortho"), dim=1)
    channels = x.shape[1]
    x[:, channels // 2 - channels // SCALE : channels // 2 + channels // SCALE] = 0.0
    return F.relu(torch.fft.ifft(torch.fft.ifftshift(x, dim=1), dim=1, norm="ortho").real)


class FreqNetNet(nn.Module):
    """FreqNet with one output logit; parameter names as in the authors' module."""

    def __init__(self, layers: list[int] | tuple[int, int] = (3, 4), width: int = 64) -> None:
        super().__init__()
        wide = 4 * width  # layer1's output channels
        for index, (cin, cout) in enumerate(((3, width), (width, width), (wide, wide), (wide, wide)), 1):
            setattr(self, f"weight{index}", nn.Parameter(torch.randn(cout, cin, 1, 1)))
            setattr(self, f"bias{index}", nn.Parameter(torch.randn(cout)))
            setattr(self, f"realconv{index}", nn.Conv2d(cout, cout, kernel_size=1, bias=False))
            setattr(self, f"imagconv{index}", nn.Conv2d(cout, cout, kernel_size=1, bias=False))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = bottleneck_stage(width, width, layers[0])
        self.layer2 = bottleneck_stage(wide, 2 * width, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc1 = nn.Linear(8 * width, 1)

    def _conv(self, index: int, x: torch.Tensor, stride: int) -> torch.Tensor:
        weight, bias = getattr(self, f"weight{index}"), getattr(self, f"bias{index}")
        return F.relu(F.conv2d(x, weight, bias, stride=stride))

    def _fcl(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """1x1 convolutions on the real and imaginary parts of the centred spectrum, back to pixels."""
        x = torch.fft.fftshift(torch.fft.fft2(x, norm="ortho"), dim=(-2, -1))
        real, imag = getattr(self, f"realconv{index}"), getattr(self, f"imagconv{index}")
        x = torch.complex(real(x.real), imag(x.imag))
        return F.relu(torch.fft.ifft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho").real)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._fcl(1, hfreq_c(self._conv(1, hfreq_wh(x), stride=1)))
        x = self._fcl(2, hfreq_c(self._conv(2, hfreq_wh(x), stride=2)))
        x = self.layer1(self.maxpool(x))
        x = self._fcl(3, self._conv(3, hfreq_wh(x), stride=1))
        x = self._fcl(4, self._conv(4, hfreq_wh(x), stride=2))
        x = self.layer2(x)
        return self.fc1(torch.flatten(self.avgpool(x), 1))


def build_network(config: dict[str, Any]) -> FreqNetNet:
    """A :class:`FreqNetNet` for ``config`` (``layers``: two stage depths, ``width``: first block channels)."""
    return FreqNetNet(**two_stage_shape(config, "freqnet"))


class FreqNet(ExpertAdapter):
    """``--model freqnet --model-args path=<FreqNet .pth>[,resize=256|none,threshold=0.5,device=cuda]``."""

    arch = "freqnet"
    published = "huggingface.co/HorizonTEL/AIGIBench (AIGIBench's retrained FreqNet; the authors' repository has none)"

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
        resize: str | None = "256",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        weights = self.checkpoint_path(path)
        config = architecture_config(weights, DEFAULT_CONFIG, self.arch)
        self.options = two_stage_shape(config, self.arch)
        network = FreqNetNet(**self.options)
        load_into(network, self.read_state(weights), weights, self.arch)
        size = parse_size(self.arch, resize, "resize")
        self.use(network, Preprocess(resize=("square", size) if size else None, norm="imagenet"))
