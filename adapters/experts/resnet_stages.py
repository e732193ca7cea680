"""ResNet-50 stages built from torchvision's bottleneck block, for detectors that keep only the first two
stages of a ResNet-50 (SAFE, FreqNet): their state-dict names (``layer1.0.conv1``, ``layer1.0.downsample.0``
...) are torchvision's; and :func:`two_stage_shape`, the two-stage config check SAFE, FreqNet and NPR share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from spotfake.harness.errors import SpotfakeError


def two_stage_shape(config: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """``{"layers": [two stage depths], "width": first channels}`` of a two-stage detector's config (SAFE,
    FreqNet, NPR); one line naming ``arch`` when ``layers`` does not list two depths."""
    layers = list(config["layers"])
    if len(layers) != 2:
        raise SpotfakeError(f"{arch} config: layers must list 2 stage depths, got {layers}")
    return {"layers": layers, "width": int(config["width"])}


def bottleneck_stage(inplanes: int, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
    """``blocks`` torchvision bottlenecks (``planes * 4`` channels out), the first one striding and with a
    1x1 projection shortcut when the shape changes, as ``ResNet._make_layer`` builds them."""
    from torchvision.models.resnet import Bottleneck

    out = planes * Bottleneck.expansion
    downsample = None
    if stride != 1 or inplanes != out:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, out, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(out)
        )
    layers = [Bottleneck(inplanes, planes, stride, downsample)]
    layers += [Bottleneck(out, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)
