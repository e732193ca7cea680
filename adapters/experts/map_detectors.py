"""Detectors that classify a precomputed artifact map with a CNNDetection ResNet-50 (torchvision layout,
one logit; p(fake) = sigmoid):

- **LGrad** (Tan et al., "Learning on Gradients: Generalized Artifacts Representation for GAN-Generated
  Images Detection", CVPR 2023, github.com/chuangchuangtan/LGrad; no licence file): the map is the
  gradient of a StyleGAN discriminator (``karras2019stylegan-bedrooms-256x256``) with respect to the image
  resized to 256 x 256, min-max scaled to 0..255 and saved as PNG (``img2gad_pytorch/gen_imggrad.py``).
  Their ``CNNDetection/eval_test8gan.py`` classifies the maps with no resize and no crop, ImageNet norm;
  the checkpoint is a bare state dict.
- **DIRE** (Wang et al., "DIRE for Diffusion-Generated Image Detection", ICCV 2023,
  github.com/ZhendongWang6/DIRE; no licence file): the map is ``|x - reconstruction|`` after DDIM inversion
  and reconstruction by ADM (``guided-diffusion/compute_dire.py``). Their ``test.py``/``demo.py`` classify it
  after ``Resize(256)`` (shorter side) + ``CenterCrop(224)``, ImageNet norm; the checkpoint is
  ``{"model": state dict, ...}`` (or bare).

The maps come one of two ways, as in the authors' own pipelines:

- ``maps=DIR`` points at maps computed with the authors' scripts (their own evaluation reads those). The
  map of a sample is found from its id (its path under ``--data-root``): ``DIR/<id>``, the same with a
  ``.png`` suffix (DIRE keeps file names, LGrad writes PNG), or LGrad's layout
  ``DIR/<folder>_grad/<stem>.png``. A sample without a map gets an error response naming where it was
  looked for.
- ``preprocessor=FILE`` runs the pre-processor here (a StyleGAN discriminator; a 256x256 ADM with 20 DDIM
  steps each way) from its weight file: each image becomes the map the authors' script would have saved,
  and the pre-processor's sha256 joins the run key. The subclass names the module that builds it
  (:attr:`MapDetector.mapper`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

from torch import nn

from spotfake.harness.errors import SampleError, SpotfakeError
from spotfake.harness.model import Item
from spotfake.harness.types import Response

from .arch_config import architecture_config
from .bundles import SIDBENCH
from .checkpoints import load_into, require_file
from .expert import ExpertAdapter
from .preprocess import Preprocess

DEFAULT_CONFIG: dict[str, Any] = {"arch": "", "layers": [3, 4, 6, 3]}
"""A ResNet-50; ``layers`` may be overridden beside a checkpoint (``<stem>.json``) for a smaller variant."""


def map_candidates(maps: Path, sample_id: str) -> list[Path]:
    """Where the map of ``sample_id`` may be, in order (all inside ``maps``)."""
    rel = Path(sample_id)
    if rel.is_absolute() or ".." in rel.parts or not rel.name:
        return []
    found = [maps / rel, maps / rel.with_suffix(".png")]
    if rel.parent.name:
        found.append(maps / rel.parent.parent / f"{rel.parent.name}_grad" / f"{rel.stem}.png")
    return list(dict.fromkeys(found))


class Mapper(Protocol):
    """A loaded pre-processor: image in, the map the authors' script would have saved out."""

    settings: dict[str, Any]
    """What changes the maps (resolution, steps, ...), recorded in the run's settings."""

    def __call__(self, image: Any, source_name: str = "") -> Any:
        """The map of one RGB PIL image, as a PIL image; ``source_name`` (the sample's file name) tells a
        pre-processor whose authors save the map in the source's format which format that is."""
        ...


MapperFactory = Callable[[Path, str], Mapper]
"""``build(weight_file, device) -> Mapper``, named by :attr:`MapDetector.mapper` as ``module:function``."""


class MapDetector(ExpertAdapter):
    """A ResNet-50 on the maps under ``maps=DIR``; subclasses set the arch, the spec and the published place."""

    spec_for_maps: ClassVar[Preprocess]
    preprocessor: ClassVar[str]
    """How the authors compute the maps (named when neither ``maps=`` nor ``preprocessor=`` is given)."""
    mapper: ClassVar[str] = ""
    """``module:function`` (a :data:`MapperFactory`) that loads the pre-processor for ``preprocessor=FILE``."""

    def __init__(
        self,
        path: str | None = None,
        maps: str | None = None,
        preprocessor: str | None = None,
        bundle: str | None = None,
        name: str | None = None,
        threshold: str = "0.5",
        device: str = "auto",
        batch_size: str = "32",
    ) -> None:
        super().__init__(threshold=threshold, device=device, batch_size=batch_size)
        self.maps: Path | None = None
        self.make_map: Mapper | None = None
        if bool(maps) == bool(preprocessor):
            raise SpotfakeError(
                f"{self.arch} needs exactly one of maps=<folder of precomputed maps> (computed with "
                f"{self.preprocessor}) or preprocessor=<its weight file> (got maps={maps!r}, "
                f"preprocessor={preprocessor!r})"
            )
        if maps:
            self.maps = Path(maps).expanduser()
            if not self.maps.is_dir():
                raise SpotfakeError(
                    f"{self.arch}: maps={maps} is not a folder; point it at the computed maps"
                )
        weights = self.checkpoint_path(path, bundle, name)
        config = architecture_config(weights, {**DEFAULT_CONFIG, "arch": self.arch}, self.arch)
        from torchvision.models.resnet import Bottleneck, ResNet

        network: nn.Module = ResNet(Bottleneck, list(config["layers"]), num_classes=1)
        load_into(network, self.read_state(weights), weights, self.arch)
        self.options = {"layers": list(config["layers"]), "input": "precomputed maps (maps=)"}
        if preprocessor:
            self.make_map = self._load_mapper(preprocessor)
            self.options.update(
                input="maps computed here (preprocessor=)", preprocessor=self.make_map.settings
            )
        self.use(network, self.spec_for_maps)

    def _load_mapper(self, preprocessor: str) -> Mapper:
        """The pre-processor from its weight file; its sha256 joins the run's identity."""
        file = require_file(
            preprocessor, f"{self.arch} pre-processor weights", self.preprocessor, "preprocessor"
        )
        module, _, function = self.mapper.partition(":")
        build: MapperFactory = getattr(importlib.import_module(module), function)
        made = build(file, str(self.device))
        self.add_file(file)
        return made

    def predict(self, items: Sequence[Item]) -> list[Response]:
        """Each sample's map in place of its image; a sample whose map cannot be had gets an error."""
        errors: dict[int, str] = {}
        mapped: list[tuple[int, Item]] = []
        for index, item in enumerate(items):
            try:
                mapped.append((index, Item(item.sample, [self._map_of(item)])))
            except SampleError as exc:
                errors[index] = str(exc)
        answers = dict(zip((i for i, _ in mapped), super().predict([m for _, m in mapped]), strict=True))
        return [answers[i] if i in answers else Response(error=errors[i]) for i in range(len(items))]

    def _map_of(self, item: Item) -> Any:
        """The map of one sample: computed by the pre-processor, or read from ``maps=``."""
        from spotfake.harness.images import load_image

        if self.make_map is not None:
            try:
                return self.make_map(item.images[0], source_name=Path(item.sample.id).name)
            except (ValueError, OSError) as exc:
                raise SampleError(
                    f"{self.arch} pre-processor failed on sample {item.sample.id}: {exc}"
                ) from exc
        assert self.maps is not None
        candidates = map_candidates(self.maps, item.sample.id)
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            tried = ", ".join(str(c.relative_to(self.maps)) for c in candidates) or "no path (unsafe id)"
            raise SampleError(
                f"no {self.arch} map for sample {item.sample.id} in {self.maps} (tried {tried})"
            )
        return load_image(found, sample_id=item.sample.id)


class LGrad(MapDetector):
    """``--model lgrad --model-args path=LGrad-4class-Trainon-Progan_car_cat_chair_horse.pth,maps=<grad folder>``
    (or ``preprocessor=karras2019stylegan-bedrooms-256x256_discriminator.pth`` in place of ``maps=``)."""

    arch = "lgrad"
    published = "github.com/chuangchuangtan/LGrad (README: Google Drive folder of the classifiers)"
    preprocessor = (
        "the authors' img2gad_pytorch/gen_imggrad.py (StyleGAN bedroom discriminator "
        "karras2019stylegan-bedrooms-256x256_discriminator.pth, linked from LGrad's img2gad_pytorch/README.md)"
    )
    mapper = f"{__package__}.lgrad_gradients:build_mapper"
    spec_for_maps = Preprocess(norm="imagenet")
    bundle_files: ClassVar[dict[str, dict[str, str]]] = {
        SIDBENCH: {
            "LGrad": "lgrad/LGrad.pth",
            "LGrad-1class-Trainon-Progan_horse": "lgrad/LGrad-1class-Trainon-Progan_horse.pth",
            "LGrad-2class-Trainon-Progan_chair_horse": "lgrad/LGrad-2class-Trainon-Progan_chair_horse.pth",
            "LGrad-4class-Trainon-Progan_car_cat_chair_horse": "lgrad/LGrad-4class-Trainon-Progan_car_cat_chair_horse.pth",
        }
    }


class DIRE(MapDetector):
    """``--model dire --model-args path=lsun_adm.pth,maps=<DIRE map folder>``
    (or ``preprocessor=256x256_diffusion_uncond.pt`` in place of ``maps=``)."""

    arch = "dire"
    published = "github.com/ZhendongWang6/DIRE (README: BaiduDrive / RecDrive, password dire)"
    preprocessor = (
        "the authors' guided-diffusion/compute_dire.sh (ADM 256x256, DDIM 20 steps; ADM weights "
        "256x256_diffusion_uncond.pt, linked from github.com/openai/guided-diffusion's README)"
    )
    mapper = f"{__package__}.dire_reconstruction:build_mapper"
    spec_for_maps = Preprocess(resize=("shorter", 256), crop=("center", 224), norm="imagenet")
    bundle_files: ClassVar[dict[str, dict[str, str]]] = {
        SIDBENCH: {
            name: f"dire/{name}.pth" for name in ("lsun_adm", "lsun_iddpm", "lsun_pndm", "lsun_stylegan")
        }
    }
