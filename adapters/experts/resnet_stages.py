"""ResNet-50 stages built from torchvision's bottleneck block, for detectors that keep only the first two
stages of a ResNet-50 (SAFE, FreqNet): their state-dict names (``layer1.0.conv1``, ``layer1.0.downsample.0``
...) are torchvision's."""

from __future__ import annotations

from torch import nn


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
