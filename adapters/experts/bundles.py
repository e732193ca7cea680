"""Where checkpoints live in the layouts that serve many detectors at once.

- **GRIP folders** (``grip-unina/ClipBased-SyntheticImageDetection``, ``AniSundar18/AlignedForensics``
  ``test_code``): ``<folder>/config.yaml`` naming ``arch``, ``model_name``, ``norm_type``, ``patch_size``
  and ``weights_file`` (the weights beside it, usually ``weights.pth``). Their ``main.py`` turns
  ``patch_size`` into the test transform: ``null`` the full image, ``Clip224`` a bicubic shorter-side
  resize to 224 and a centre crop 224, an integer a centre crop, a list ``Resize(*p)`` + ``CenterCrop(p[0])``;
  ``norm_type`` ``resnet``/``clip``/``xception`` picks ImageNet, CLIP or 0.5 statistics
  (``utils/processing.py`` ``make_normalize``).
- **SIDBench's bundle** (Hugging Face ``dkarageo/sidbench``, fetched with ``hf download dkarageo/sidbench
  --local-dir weights``): one folder per detector, e.g. ``rine/model_1class_trainable.pth``,
  ``cnndetect/blur_jpg_prob0.5.pth``, ``dimd/corvi22_latent_model.pth`` (``mever-team/sidbench`` README,
  "Pretrained Weights File Name"). ``--model-args bundle=DIR,name=NAME`` picks a file by the name each
  adapter lists in its ``bundle_files``; ``DIR`` is the downloaded folder (or the folder holding
  ``weights/``).
- AIGIBench's retrained checkpoints (Hugging Face ``HorizonTEL/AIGIBench``): the repository says where
  they are published but not how the files inside are named, so no layout is assumed for them; pass
  ``path=`` to the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError

from .preprocess import Preprocess

GRIP_CONFIG = "config.yaml"
GRIP_NORMS = {"resnet": "imagenet", "clip": "clip", "xception": "half"}
SIDBENCH = "sidbench"


@dataclass(frozen=True)
class GripFolder:
    """A GRIP-format model folder: its ``config.yaml`` and the weights file it names."""

    folder: Path
    arch: str
    model_name: str
    norm_type: str
    patch_size: Any
    weights: Path

    def preprocess(self) -> Preprocess:
        """The test transform GRIP's ``main.py`` builds from ``patch_size`` and ``norm_type``."""
        norm = GRIP_NORMS.get(self.norm_type)
        if norm is None:
            raise SpotfakeError(
                f"{self.folder / GRIP_CONFIG}: norm_type {self.norm_type!r} is not one of {sorted(GRIP_NORMS)}"
            )
        size = self.patch_size
        if size is None:
            return Preprocess(norm=norm)
        if size == "Clip224":
            return Preprocess(
                resize=("shorter", 224), crop=("center", 224), norm=norm, interpolation="bicubic"
            )
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            return Preprocess(crop=("center", size), norm=norm)
        if isinstance(size, list) and size and isinstance(size[0], int) and len(size) == 1:
            return Preprocess(resize=("shorter", size[0]), crop=("center", size[0]), norm=norm)
        raise SpotfakeError(
            f"{self.folder / GRIP_CONFIG}: patch_size {size!r} is not one GRIP's main.py handles here "
            "(null, Clip224, an integer, or [size])"
        )


def read_grip_folder(folder: str | Path, published: str) -> GripFolder:
    """The GRIP folder at ``folder`` (``config.yaml`` + its weights file), checked; one line when a file is
    missing, naming where the authors publish the folder (``published``)."""
    import yaml

    root = Path(folder).expanduser()
    config = root / GRIP_CONFIG
    if not config.is_file():
        raise SpotfakeError(
            f"{config} not found: path= must be a GRIP model folder (config.yaml + weights.pth); "
            f"its authors publish it at {published}"
        )
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpotfakeError(f"{config}: not valid YAML ({str(exc).splitlines()[0]})") from None
    keys = ("arch", "norm_type", "patch_size", "weights_file")
    if not isinstance(data, dict) or any(k not in data for k in keys):
        raise SpotfakeError(f"{config}: expected the keys {list(keys)} (GRIP's config.yaml)")
    weights_name = str(data["weights_file"])
    weights = root / weights_name
    if Path(weights_name).is_absolute() or ".." in Path(weights_name).parts:
        raise SpotfakeError(f"{config}: weights_file {weights_name!r} must name a file inside the folder")
    if not weights.is_file():
        raise SpotfakeError(f"{weights} not found (named by {config}); its authors publish it at {published}")
    return GripFolder(
        folder=root,
        arch=str(data["arch"]),
        model_name=str(data.get("model_name", root.name)),
        norm_type=str(data["norm_type"]),
        patch_size=data["patch_size"],
        weights=weights,
    )


def bundle_file(
    bundle: str | Path, name: str | None, files: Mapping[str, Mapping[str, str]], model: str
) -> Path:
    """The checkpoint ``name`` inside a downloaded bundle folder, by the adapter's ``files``
    (``{layout: {name: relative path}}``); one line listing the known names when it is not there."""
    known = {n: (layout, rel) for layout, table in files.items() for n, rel in table.items()}
    if not known:
        raise SpotfakeError(f"{model}: no bundle layout lists its checkpoints; pass path=<file>")
    if not name or name not in known:
        raise SpotfakeError(f"{model}: bundle=... needs name= one of {sorted(known)} (got {name!r})")
    layout, rel = known[name]
    root = Path(bundle).expanduser()
    for base in (root, root / "weights"):
        if (base / rel).is_file():
            return base / rel
    raise SpotfakeError(
        f"{model}: {root / rel} not found; bundle= must be the {layout} download "
        f"({BUNDLE_SOURCES[layout]}) holding {rel}"
    )


BUNDLE_SOURCES = {SIDBENCH: "hf download dkarageo/sidbench --local-dir DIR"}
