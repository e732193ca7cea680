"""CNNSpot: a ResNet-50 trained to tell ProGAN images from real ones, which generalises to other CNN
generators (Wang et al., "CNN-generated images are surprisingly easy to spot... for now", CVPR 2020,
github.com/PeterWang512/CNNDetection).

Checkpoint mapping: the authors' files (``blur_jpg_prob0.1.pth``, ``blur_jpg_prob0.5.pth``) are dicts
``{"model": <state dict>, "optimizer": ..., "total_steps": ...}``; the state dict under ``"model"`` is
torchvision's ``resnet50`` layout with a 1-logit ``fc`` (``fc.weight`` (1, 2048), ``fc.bias`` (1,)) and loads
unchanged. A ``"module."`` prefix (DataParallel) is stripped; a bare state dict is accepted too.

Preprocessing of the original demo: the whole image, no resize, no crop, ImageNet mean/std
(``crop=224`` gives the centre-crop variant of its ``demo_dirs_crop224.sh``; ``resize=N`` a square resize
first). A training output of ``spotfake train classifier --arch cnnspot`` loads too, with its stored config.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .checkpoints import load_into, module_state_dict
from .expert import ExpertAdapter
from .preprocess import square_crop_spec

ARCH = "cnnspot"
PUBLISHED = "github.com/PeterWang512/CNNDetection (weights/download_weights.sh: blur_jpg_prob0.5.pth)"
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


class CNNSpot(ExpertAdapter):
    """``--model cnnspot --model-args path=blur_jpg_prob0.5.pth[,crop=224,threshold=0.5,device=cuda]``."""

    arch = ARCH
    published = PUBLISHED

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
        weights, obj = self.read_configured(path, DEFAULT_CONFIG, {"resize": resize, "crop": crop})
        network = build_network(self.config)
        load_into(network, module_state_dict(obj, weights), weights, ARCH)
        self.options["layers"] = list(self.config["layers"])
        self.use(network, square_crop_spec(self.config["resize"], self.config["crop"], "imagenet"))
