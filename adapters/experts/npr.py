"""NPR: neighbouring pixel relationships (Tan et al., "Rethinking the Up-Sampling Operations in
CNN-based Generative Network for Generalizable Deepfake Detection", CVPR 2024,
github.com/chuangchuangtan/NPR-DeepfakeDetection).

Up-sampling layers copy or interpolate each low-resolution pixel into a 2x2 block, so generated images
carry a local correlation that real photographs lack. NPR exposes it as the residual
``x - up(down(x))`` (nearest neighbour, factor 2: every pixel minus the top-left pixel of its 2x2 block),
scaled by 2/3 and fed to a ResNet-50 cut after its second stage: a 3x3 stride-2 stem, max-pool,
``layer1`` (3 bottlenecks, 256 channels), ``layer2`` (4 bottlenecks, 512 channels), global average pool
and a linear ``fc1`` (512 -> 1).

Checkpoint mapping: the authors' ``NPR.pth`` is a bare state dict whose keys are exactly this
module's (``conv1``, ``bn1``, ``layer1.*``, ``layer2.*``, ``fc1.weight`` (1, 512), ``fc1.bias`` (1,));
it loads unchanged. A ``"module."`` prefix is stripped and a ``{"model": state_dict}`` wrapper (their
trainer's other format) is unwrapped.

Preprocessing of the authors' test script: resize to 256 x 256 (bilinear), no crop, ImageNet mean/std
(``resize=none`` gives their setting for same-size GAN sets). Odd image sides lose their last row or
column (in the network, before the residual) so that the 2x2 blocks tile the image. A training output of
``spotfake train classifier --arch npr`` loads too, with its stored config.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .checkpoints import load_into, module_state_dict
from .expert import ExpertAdapter
from .preprocess import square_crop_spec
from .resnet_stages import two_stage_shape

ARCH = "npr"
PUBLISHED = "github.com/chuangchuangtan/NPR-DeepfakeDetection (README: NPR.pth)"
DEFAULT_CONFIG: dict[str, Any] = {
    "arch": ARCH,
    "layers": [3, 4],  # bottleneck blocks in the two ResNet-50 stages kept
    "width": 64,  # stem channels; stage widths are width and 2 * width (x4 bottleneck expansion)
    "resize": 256,  # evaluation: square resize (None: keep the image size)
    "crop": None,  # evaluation: centre crop (None: the whole image)
}


def npr_residual(x: torch.Tensor) -> torch.Tensor:
    """``x - up(down(x))`` with nearest-neighbour factor-2 resampling; odd sides are cropped to even."""
    height, width = x.shape[-2] - x.shape[-2] % 2, x.shape[-1] - x.shape[-1] % 2
    x = x[..., :height, :width]
    down = F.interpolate(x, scale_factor=0.5, mode="nearest", recompute_scale_factor=True)
    return x - F.interpolate(down, scale_factor=2.0, mode="nearest", recompute_scale_factor=True)


class NPRNet(nn.Module):
    """The NPR residual followed by a two-stage bottleneck ResNet with one output logit."""

    def __init__(self, layers: tuple[int, int] | list[int] = (3, 4), width: int = 64) -> None:
        super().__init__()
        from torchvision.models.resnet import Bottleneck

        self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = width
        stages = []
        for planes, blocks, stride in ((width, layers[0], 1), (2 * width, layers[1], 2)):
            downsample = None
            if stride != 1 or inplanes != planes * Bottleneck.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(
                        inplanes, planes * Bottleneck.expansion, kernel_size=1, stride=stride, bias=False
                    ),
                    nn.BatchNorm2d(planes * Bottleneck.expansion),
                )
            stage = [Bottleneck(inplanes, planes, stride, downsample)]
            inplanes = planes * Bottleneck.expansion
            stage += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc1 = nn.Linear(inplanes, 1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(npr_residual(x) * 2.0 / 3.0))))
        x = self.layer2(self.layer1(x))
        return self.fc1(torch.flatten(self.avgpool(x), 1))


def build_network(config: dict[str, Any]) -> nn.Module:
    """An :class:`NPRNet` for ``config``."""
    return NPRNet(**two_stage_shape(config, ARCH))


class NPR(ExpertAdapter):
    """``--model npr --model-args path=NPR.pth[,resize=256|none,crop=N,threshold=0.5,device=cuda]``."""

    arch = ARCH
    published = PUBLISHED
    default_config = DEFAULT_CONFIG
    default_path: str | None = None

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
        resize: str | None = None,
        crop: str | None = None,
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        sizes = {"resize": resize, "crop": crop}
        weights, obj = self.read_configured(path or self.default_path, self.default_config, sizes)
        network = build_network(self.config)
        load_into(network, module_state_dict(obj, weights), weights, ARCH)
        self.options |= {"layers": list(self.config["layers"]), "width": self.config["width"]}
        self.use(network, square_crop_spec(self.config["resize"], self.config["crop"], "imagenet"))
