"""AIDE: hybrid features from DCT-selected patches and a frozen CLIP ConvNeXt (Yan et al., "A Sanity Check
for AI-generated Image Detection", ICLR 2025, github.com/shilinyan99/AIDE, MIT).

Per image (their ``data/datasets.py`` ``TestDataset`` and ``data/dct.py`` ``DCT_base_Rec_Module``):

- the whole image as a [0, 1] tensor (no resize) is cut into 32 x 32 windows with stride 16; each window's
  2-D DCT (orthonormal DCT-II matrices, ``D @ w @ D.T``) is graded by ``sum_i 2**i * mean_{band i}
  log(|dct| + 1)`` over six diagonal bands (``i + j`` in ``[64 i / 6, 64 (i + 1) / 6]``, both ends
  included); the two lowest-graded and the two highest-graded windows are kept (their order:
  ``minmin, maxmax, minmin1, maxmax1``), each passed through the all-pass DCT filter and back;
- those four patches and the whole image are each resized to 256 x 256 (bilinear, on the float tensor,
  without antialiasing: the torchvision 0.12/0.15 their requirements and README pin) and normalised with
  ImageNet statistics.

The network (``models/AIDE.py``): 30 fixed SRM high-pass filters (``hpf.hpf.weight``, in the checkpoint)
on each patch; two ResNet-50s with a 30-channel stem (``model_min`` on the min patches, ``model_max`` on the
max ones; their ``fc`` (1000, 2048) is loaded but unused: the pooled 2048-d features are averaged over the
four patches); OpenCLIP's ``convnext_xxlarge`` image trunk (``openclip_convnext_xxl.*``: timm's
``convnext_xxlarge`` without classifier, its head's pooling and flatten removed, so the head's LayerNorm2d
output (3072, 8, 8) is average-pooled) on the whole image re-normalised from ImageNet to CLIP statistics;
``convnext_proj`` (3072 -> 256); ``fc``: Mlp(2304 -> 1024 -> 2, GELU). p(fake) = softmax[1].

Checkpoint: their training output (``utils.save_model``: ``{"model", "optimizer", "epoch", "scaler",
"args"}``; the Google Drive "Model Zoo"), loaded with ``checkpoint["model"]``; all keys, the frozen
ConvNeXt-XXL's included, load unchanged. The ``args`` Namespace is let through the safe loader.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.transforms import functional as TF

from spotfake.harness.errors import SpotfakeError

from .arch_config import architecture_config
from .checkpoints import load_into
from .expert import ExpertAdapter, two_class_logit
from .preprocess import NORMS, Preprocess

WINDOW, STRIDE, SIZE, GRADES = 32, 16, 256, 6
DEFAULT_CONFIG: dict[str, Any] = {
    "arch": "aide",
    "convnext": "convnext_xxlarge",  # timm name of OpenCLIP's convnext_xxlarge image trunk
    "timm_kwargs": {},  # timm.create_model overrides (depths, dims) for a scaled-down variant
    "resnet_layers": [3, 4, 6, 3],
    "size": SIZE,  # the side every view is resized to (their 256; smaller only for a scaled-down test model)
}


def dct_matrix(size: int) -> torch.Tensor:
    """The orthonormal DCT-II matrix: row i is ``c_i cos((j + 0.5) pi i / size)``."""

    def scale(i: int) -> float:
        return math.sqrt(1.0 / size) if i == 0 else math.sqrt(2.0 / size)

    rows = [[scale(i) * math.cos((j + 0.5) * math.pi * i / size) for j in range(size)] for i in range(size)]
    return torch.tensor(rows, dtype=torch.float64).float()


def band(size: int, start: float, end: float) -> torch.Tensor:
    """1 where ``start <= i + j <= end``, else 0."""
    index = torch.arange(size)
    total = index[:, None] + index[None, :]
    return ((total >= start) & (total <= end)).float()


def select_patches(image: torch.Tensor) -> list[torch.Tensor]:
    """The four graded windows (C, 32, 32) of a (C, H, W) image: lowest, highest, second lowest, second highest."""
    channels, height, width = image.shape
    if height < WINDOW or width < WINDOW:
        raise ValueError(f"AIDE needs images of at least {WINDOW}x{WINDOW} pixels, got {height}x{width}")
    windows = F.unfold(image[None], kernel_size=WINDOW, stride=STRIDE)[0]
    count = windows.shape[1]
    windows = windows.transpose(0, 1).reshape(count, channels, WINDOW, WINDOW)
    dct = dct_matrix(WINDOW)
    coefficients = dct @ windows @ dct.T
    passed = dct.T @ (coefficients * band(WINDOW, 0, 2 * WINDOW)) @ dct  # the all-pass level filter
    grade = torch.zeros(count)
    weight = 1
    for i in range(GRADES):
        mask = band(WINDOW, WINDOW * 2.0 / GRADES * i, WINDOW * 2.0 / GRADES * (i + 1))
        grade += weight * torch.sum(torch.log(coefficients.abs() + 1) * mask / mask.sum(), dim=[1, 2, 3])
        weight *= 2
    order = torch.sort(grade)[1]
    second = 1 if count > 1 else 0
    picks = (order[0], order[-1], order[second], order[-1 - second])
    return [passed[int(i)] for i in picks]


def aide_transform(image: Any, size: int = SIZE) -> torch.Tensor:
    """(5, 3, size, size): the four patches, then the whole image; resized without antialiasing, ImageNet norm."""
    mean, std = NORMS["imagenet"]  # type: ignore[misc]
    tensor = TF.to_tensor(image)
    views = [*select_patches(tensor), tensor]
    return torch.stack(
        [TF.normalize(TF.resize(v, [size, size], antialias=False), list(mean), list(std)) for v in views]
    )


class HighPass(nn.Module):
    """Their ``HPF``: a 5x5 convolution 3 -> 30 without bias (the SRM filters, loaded from the checkpoint)."""

    def __init__(self) -> None:
        super().__init__()
        self.hpf = nn.Conv2d(3, 30, kernel_size=5, padding=2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hpf(x)


class Mlp(nn.Module):
    """``fc1`` -> GELU -> ``fc2``."""

    def __init__(self, inputs: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(inputs, hidden), nn.GELU(), nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def srm_resnet(layers: list[int]) -> nn.Module:
    """torchvision's ResNet-50 (1000 classes, as their ``ResNet(Bottleneck, [3, 4, 6, 3])``) on 30 channels."""
    from torchvision.models.resnet import Bottleneck, ResNet

    net = ResNet(Bottleneck, layers)
    net.conv1 = nn.Conv2d(30, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return net


class AIDENet(nn.Module):
    """``AIDE_Model`` with its parameter names; call :meth:`features_only` after loading."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        import timm

        self.hpf = HighPass()
        self.model_min = srm_resnet(list(config["resnet_layers"]))
        self.model_max = srm_resnet(list(config["resnet_layers"]))
        trunk: Any = timm.create_model(
            str(config["convnext"]), pretrained=False, num_classes=0, **config["timm_kwargs"]
        )
        trunk.head.global_pool, trunk.head.flatten = nn.Identity(), nn.Identity()
        self.openclip_convnext_xxl = trunk
        width = int(trunk.num_features)
        self.convnext_proj = nn.Sequential(nn.Linear(width, 256))
        self.fc = Mlp(2048 + 256, 1024, 2)

    def features_only(self) -> None:
        """Drop the ResNets' unused ``fc`` (loaded, as the checkpoint holds it) from the forward pass."""
        self.model_min.fc = nn.Identity()
        self.model_max.fc = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (clip_mean, clip_std), (net_mean, net_std) = NORMS["clip"], NORMS["imagenet"]  # type: ignore[misc]

        def column(values: Any) -> torch.Tensor:
            return torch.tensor(values, dtype=x.dtype, device=x.device).view(3, 1, 1)

        tokens = x[:, 4]
        tokens = tokens * (column(net_std) / column(clip_std)) + (
            column(net_mean) - column(clip_mean)
        ) / column(clip_std)
        feats = F.adaptive_avg_pool2d(self.openclip_convnext_xxl(tokens), 1).flatten(1)
        x0 = self.convnext_proj(feats)
        minmin, maxmax, minmin1, maxmax1 = (self.hpf(x[:, i]) for i in range(4))
        x1 = (
            self.model_min(minmin)
            + self.model_max(maxmax)
            + self.model_min(minmin1)
            + self.model_max(maxmax1)
        ) / 4
        return self.fc(torch.cat([x0, x1], dim=1))


class AIDE(ExpertAdapter):
    """``--model aide --model-args path=<AIDE checkpoint .pth>[,threshold=0.5,device=cuda,batch_size=8]``."""

    arch = "aide"
    published = "github.com/shilinyan99/AIDE (README 'Model Zoo': Google Drive folder of checkpoints)"

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "8",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        weights = self.checkpoint_path(path)
        config = architecture_config(weights, DEFAULT_CONFIG, self.arch)
        if len(config["resnet_layers"]) != 4:
            raise SpotfakeError(
                f"aide config: resnet_layers must list 4 stage depths, got {config['resnet_layers']}"
            )
        state = self.read_state(weights, allow_namespace=True)  # their saved training options
        network = AIDENet(config)
        load_into(network, state, weights, self.arch)
        network.features_only()
        self.options = {
            "convnext": config["convnext"],
            "timm_kwargs": dict(config["timm_kwargs"]),
            "resnet_layers": list(config["resnet_layers"]),
            "views": "4 DCT-graded 32x32 windows (stride 16) + the whole image, each resized without antialiasing",
        }
        size = int(config["size"])
        self.use(network, Preprocess(resize=("square", size), norm="imagenet", backend="tensor"))
        self._transform = partial(aide_transform, size=size)

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        return two_class_logit(self.network(batch))
