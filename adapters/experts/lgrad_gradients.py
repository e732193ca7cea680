"""LGrad's pre-processor: an image becomes the gradient map the authors' script would have saved.

From LGrad's ``img2gad_pytorch/gen_imggrad.py`` (github.com/chuangchuangtan/LGrad, commit 7cb5973):

- input: the image opened as RGB (line 29), ``transforms.Resize((256, 256))`` (bilinear, PIL; the aspect
  ratio is not kept), ``ToTensor()``, ``Normalize(mean=0.5, std=0.5)``, i.e. RGB in [-1, 1] (lines 16-23);
  the discriminator is genforce's StyleGAN discriminator at 256 (lines 51-57; see
  :mod:`.stylegan_discriminator`), in eval mode (line 60);
- one image at a time: ``img2gad_pytorch/transform_img2grad.sh`` passes batch size 1 (lines 22, 39, 57),
  so the minibatch-std channel is a constant and an image's map never depends on another image;
- the map is ``torch.autograd.grad(pre.sum(), img)``: the gradient of the (summed) logit with respect to
  the normalised input tensor (lines 74-76), taken as HWC (``permute(1, 2, 0)``, line 79);
- ``normlize_np`` (lines 32-35): minus its minimum over all pixels and channels together, divided by the
  maximum of that (unless 0), times 255, in float32;
- ``cv2.imwrite(<stem>.png, img[..., ::-1])`` (line 81): the channel reversal makes the file RGB again,
  and cv2 turns the float32 array into 8 bits (``saturate_cast``: round half to even, clamped to 0..255;
  checked with opencv-python-headless 5.1.0) before writing a PNG. The classifier reads that PNG as RGB.

AIGCDetectBenchmark's ``preprocessing/LGrad/gen_imggrad.py`` is the same script; its on-the-fly
``data/process.py:processing_LGrad`` encodes the array without the reversal, so its maps are BGR: the
authors' saved maps are what is reproduced here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .preprocess import resize_square, to_normalized_tensor
from .stylegan_discriminator import StyleGANDiscriminator, discriminator_config, load_discriminator

HALF = (0.5, 0.5, 0.5)
"""``transforms.Normalize`` mean and std of the authors' script: [0, 1] to [-1, 1]."""


def input_tensor(image: Any, resolution: int) -> torch.Tensor:
    """An RGB PIL image as the discriminator's input: (3, R, R), resized bilinearly, in [-1, 1]."""
    return to_normalized_tensor(resize_square(image.convert("RGB"), resolution), HALF, HALF)


def input_gradient(network: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """d(sum of ``network(x)``)/dx for ``x`` (N, C, H, W): the same shape as ``x``, detached."""
    with torch.inference_mode(False), torch.enable_grad():
        leaf = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(network(leaf).sum(), leaf)
    return grad.detach()


def gradient_image(grad: torch.Tensor) -> Image.Image:
    """One image's gradient (3, H, W) as the authors' PNG holds it: min-max over all values to 0..255
    (float32), rounded half to even and clamped (cv2's conversion), RGB, 8 bits."""
    values = grad.detach().to("cpu", torch.float32).permute(1, 2, 0)
    values = values - values.min()
    top = values.max()
    if top != 0:
        values = values / top
    values = values * 255.0
    pixels = values.round().clamp(0, 255).to(torch.uint8).numpy()
    return Image.fromarray(np.ascontiguousarray(pixels))


class LGradMapper:
    """A loaded discriminator: RGB PIL image in, LGrad's gradient map (a PIL image) out."""

    def __init__(self, network: StyleGANDiscriminator, device: torch.device | str = "cpu") -> None:
        self.network = network
        self.device = torch.device(device)
        self.resolution = network.resolution
        self.settings: dict[str, Any] = {
            "network": "stylegan-discriminator",
            **discriminator_config(network),
            "input": "RGB resized to RxR (bilinear), (x - 0.5) / 0.5, one image at a time",
            "map": "d(logit)/d(input), min-max over all values to 0..255, rounded, RGB PNG",
        }

    def __call__(self, image: Any, source_name: str = "") -> Image.Image:
        """The map of one RGB PIL image; always PNG-exact, as the authors' script writes ``.png`` whatever
        the source (``source_name`` is not needed)."""
        x = input_tensor(image, self.resolution).unsqueeze(0).to(self.device)
        return gradient_image(input_gradient(self.network, x)[0])


def build_mapper(weight_file: Path, device: str) -> LGradMapper:
    """LGrad's pre-processor from a StyleGAN discriminator file (a :data:`~.map_detectors.MapperFactory`)."""
    return LGradMapper(load_discriminator(weight_file, device), device)
