"""SAFE: a small ResNet on the diagonal wavelet detail of the image (Li et al., "Improving Synthetic Image
Detection Towards Generalization: An Image Transformation Perspective", KDD 2025,
github.com/Ouxiang-Li/SAFE, Apache-2.0).

The network (their ``models/resnet.py``, ``resnet50(num_classes=2)``) takes the HH band of a one-level 2-D
DWT (``bior1.3``, symmetric extension, computed there with ``pytorch_wavelets.DWTForward``), resized back
to the input size (bilinear), through a 3x3 stride-2 stem, max-pool, the first two ResNet-50 stages
(3 and 4 bottlenecks) and ``fc1`` (512 -> 2). p(fake) = softmax(logits)[1], as their ``engine_finetune.py``.

Here the DWT is a fixed depthwise convolution with the ``bior1.3`` decomposition high-pass filter in both
directions (see :class:`HHBand`); the test checks it against PyWavelets' ``dwt2``.

Checkpoint mapping: their ``checkpoint/checkpoint-best.pth`` is ``utils.save_model``'s dict
``{"model": state dict, "optimizer", "epoch", "scaler", "args": argparse.Namespace}``; the state dict under
``"model"`` loads unchanged (``conv1``, ``bn1``, ``layer1.*``, ``layer2.*``, ``fc1.weight`` (2, 512)).
The ``args`` Namespace (the training options) is the one non-tensor object let through the safe loader.

Preprocessing of their ``scripts/eval.sh`` (``--transform_mode crop --input_size 256``):
``CenterCrop(256)`` (smaller images zero-padded), ``ToTensor``, no normalisation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.transforms import functional as TF

from .arch_config import architecture_config
from .base import parse_size
from .checkpoints import load_into
from .expert import ExpertAdapter, two_class_logit
from .preprocess import Preprocess
from .resnet_stages import bottleneck_stage, two_stage_shape

DEFAULT_CONFIG: dict[str, Any] = {
    "arch": "safe",
    "layers": [3, 4],  # bottlenecks in the two ResNet-50 stages kept
    "width": 64,  # stem channels; the stages give 4 * width and 8 * width channels
}
BIOR13_DEC_HI = (0.0, 0.0, -0.7071067811865476, 0.7071067811865476, 0.0, 0.0)
"""``pywt.Wavelet("bior1.3").dec_hi``: the decomposition high-pass filter (only two taps are non-zero)."""


def symmetric_index(size: int, before: int, after: int) -> torch.Tensor:
    """Indices extending ``range(size)`` by ``before``/``after`` samples with half-sample symmetric
    reflection (``... 1 0 | 0 1 ... n-1 | n-1 n-2 ...``), PyWavelets' ``symmetric`` mode, for any size."""
    index = torch.remainder(torch.arange(-before, size + after), 2 * size)
    return torch.where(index >= size, 2 * size - 1 - index, index)


class HHBand(nn.Module):
    """The HH (diagonal detail) band of a one-level 2-D DWT with symmetric extension, per channel.

    Output length per axis is ``floor((n + L - 1) / 2)`` for a filter of length L (PyWavelets'
    ``dwt_coeff_len``); the signal is extended by ``(2 * (out - 1) - n + L)`` samples, the smaller half
    before, then convolved with the filter and kept every second sample.
    """

    kernel: torch.Tensor

    def __init__(self, dec_hi: tuple[float, ...] = BIOR13_DEC_HI) -> None:
        super().__init__()
        taps = torch.tensor(dec_hi[::-1], dtype=torch.float64)  # conv2d correlates: flip for a convolution
        self.register_buffer("kernel", torch.outer(taps, taps)[None, None], persistent=False)
        self.length = len(dec_hi)

    def _extension(self, size: int) -> tuple[int, int]:
        out = (size + self.length - 1) // 2
        total = 2 * (out - 1) - size + self.length
        return total // 2, (total + 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        rows = symmetric_index(height, *self._extension(height)).to(x.device)
        cols = symmetric_index(width, *self._extension(width)).to(x.device)
        extended = x.index_select(-2, rows).index_select(-1, cols)
        kernel = self.kernel.to(x.dtype).expand(x.shape[1], 1, -1, -1)
        return F.conv2d(extended, kernel, stride=2, groups=x.shape[1])


class SAFENet(nn.Module):
    """HH band resized to the input size -> 3x3 stride-2 stem -> two bottleneck stages -> ``fc1`` (2 logits)."""

    def __init__(self, layers: list[int] | tuple[int, int] = (3, 4), width: int = 64) -> None:
        super().__init__()
        self.dwt = HHBand()
        self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = bottleneck_stage(width, width, layers[0])
        self.layer2 = bottleneck_stage(4 * width, 2 * width, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc1 = nn.Linear(8 * width, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # transforms.Resize([h, w]) on a tensor: bilinear, antialias on (a no-op when enlarging)
        x = TF.resize(self.dwt(x), [x.shape[-2], x.shape[-1]], antialias=True)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc1(torch.flatten(self.avgpool(x), 1))


def build_network(config: dict[str, Any]) -> SAFENet:
    """A :class:`SAFENet` for ``config`` (``layers``: two stage depths, ``width``: stem channels)."""
    return SAFENet(**two_stage_shape(config, "safe"))


class SAFE(ExpertAdapter):
    """``--model safe --model-args path=checkpoint-best.pth[,crop=256|none,threshold=0.5,device=cuda]``."""

    arch = "safe"
    published = "github.com/Ouxiang-Li/SAFE (checkpoint/checkpoint-best.pth, in the repository)"

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
        crop: str | None = "256",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        weights = self.checkpoint_path(path)
        config = architecture_config(weights, DEFAULT_CONFIG, self.arch)
        state = self.read_state(weights, allow_namespace=True)  # their saved training options
        self.options = two_stage_shape(config, self.arch)
        network = SAFENet(**self.options)
        load_into(network, state, weights, self.arch)
        size = parse_size(self.arch, crop, "crop")
        self.use(network, Preprocess(crop=("center", size) if size else None, norm="none"))

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """softmax(two logits)[1] = sigmoid(logit_fake - logit_real)."""
        return two_class_logit(self.network(batch))
