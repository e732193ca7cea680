"""CNNSpot: a ResNet-50 trained to tell ProGAN images from real ones, which generalises to other CNN
generators (Wang et al., "CNN-generated images are surprisingly easy to spot... for now", CVPR 2020,
github.com/PeterWang512/CNNDetection).

Checkpoint mapping: the authors' files (``blur_jpg_prob0.1.pth``, ``blur_jpg_prob0.5.pth``) are dicts
``{"model": <state dict>, "optimizer": ..., "total_steps": ...}``; the state dict under ``"model"`` is
torchvision's ``resnet50`` layout with a 1-logit ``fc`` (``fc.weight`` (1, 2048), ``fc.bias`` (1,)) and loads
unchanged. A ``"module."`` prefix (DataParallel) is stripped; a bare state dict is accepted too.

Preprocessing of the original demo: the whole image, no resize, no crop, ImageNet mean/std
(``crop=224`` gives the centre-crop variant of its ``demo_dirs_crop224.sh``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spotfake.harness.errors import SpotfakeError

from .base import IMAGENET_MEAN, IMAGENET_STD, ClassifierAdapter
from .checkpoints import load_into, module_state_dict
from .preprocess import resize_crop_normalize

ARCH = "cnnspot"
DEFAULT_CONFIG: dict[str, Any] = {
    "arch": ARCH,
    "layers": [3, 4, 6, 3],  # ResNet-50
    "resize": None,  # evaluation: square resize before the crop (None: keep the image size)
    "crop": None,  # evaluation: centre crop (None: the whole image)
}


def build_network(config: dict[str, Any]) -> nn.Module:
    """torchvision's ResNet with bottleneck blocks ``config["layers"]`` and one output logit."""
    from torchvision.models.resnet import Bottleneck, ResNet

    return ResNet(Bottleneck, list(config["layers"]), num_classes=1)


class CNNSpot(ClassifierAdapter):
    """``--model cnnspot --model-args path=blur_jpg_prob0.5.pth[,crop=224,threshold=0.5,device=cuda]``."""

    def __init__(
        self,
        path: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "16",
        crop: str | None = None,
        resize: str | None = None,
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        if not path:
            raise SpotfakeError(
                "cnnspot needs path=<checkpoint> (e.g. blur_jpg_prob0.5.pth or a training output folder)"
            )
        weights, obj = self.read_weights(path, DEFAULT_CONFIG, ARCH, {"resize": resize, "crop": crop})
        network = build_network(self.config)
        load_into(network, module_state_dict(obj, weights), weights, ARCH)
        self.network = network.eval().to(self.device)
        self._transform = resize_crop_normalize(self.config, IMAGENET_MEAN, IMAGENET_STD)

    def preprocess(self, image: Any) -> torch.Tensor:
        return self._transform(image)

    def preprocessing_settings(self) -> dict[str, Any]:
        return {
            "arch": ARCH,
            "layers": self.config["layers"],
            "resize": self.config["resize"],
            "crop": self.config["crop"],
        }
