"""The base of every expert that loads its authors' checkpoint (see docs/experts.md, "Writing an adapter").

An :class:`ExpertAdapter` subclass declares, once:

- ``arch``: the architecture name recorded in its settings;
- ``published``: where the authors publish the checkpoint (named in the one-line error for a missing file);
- ``bundle_files``: ``{layout: {name: relative path}}`` for ``--model-args bundle=DIR,name=NAME``
  (:mod:`spotfake.adapters.experts.bundles`);
- in ``__init__``: the files it reads (:meth:`checkpoint_path`, :meth:`read_state`, :meth:`add_file`, or
  :meth:`read_configured` for a checkpoint that may carry its own architecture config),
  its network (strictly loaded: :func:`~spotfake.adapters.experts.checkpoints.load_into`) and its
  :class:`~spotfake.adapters.experts.preprocess.Preprocess`, through :meth:`use`.

Its settings (recorded in results.json and hashed into the run key) are the threshold, the arch, the
preprocessing spec, any ``options`` that change predictions, and the sha256 of every weight file read,
so a checkpoint with other bytes never reuses another's records.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch

from spotfake.adapters.devices import choose_device  # one device rule for every adapter
from spotfake.adapters.model_args import float_arg, int_arg
from spotfake.adapters.weights_hash import weight_files
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import cache_root
from spotfake.harness.model import Item, Model
from spotfake.harness.types import Response

from .arch_config import merge_config
from .base import parse_size, verdict_text
from .bundles import bundle_file
from .checkpoints import (
    CONTAINERS,
    WEIGHTS_FILE,
    load_checkpoint,
    read_config,
    require_file,
    state_dict_from,
    unpack_legacy_zip,
)
from .file_identity import combined_hash, files_sha256
from .preprocess import Preprocess


def two_class_logit(out: torch.Tensor) -> torch.Tensor:
    """One logit from a 2-way (real, fake) head: ``sigmoid(z1 - z0)`` equals ``softmax(z)[:, 1]``."""
    return out[:, 1] - out[:, 0]


class ExpertAdapter(Model):
    """An expert detector on its authors' checkpoint: declared files, strict loading, one preprocessing
    spec, sha256 identity. Subclasses call :meth:`use` at the end of ``__init__``.

    The network gives one logit per image; p(fake) = sigmoid(logit), and the verdict is p(fake) at the
    threshold. Images of different sizes are batched by shape, so "no resize" preprocessing (as in the
    original evaluations) still runs batched.
    """

    needs_images = True

    network: torch.nn.Module

    arch: ClassVar[str] = ""
    published: ClassVar[str] = ""
    """Where the authors publish the checkpoint, e.g. ``github.com/mever-team/rine (ckpt/)``."""
    bundle_files: ClassVar[dict[str, dict[str, str]]] = {}

    spec: Preprocess
    config: dict[str, Any]
    """The architecture config, for adapters that read it with :meth:`read_configured`."""

    def __init__(
        self, threshold: str | float = 0.5, device: str = "auto", batch_size: str | int = 16
    ) -> None:
        owner = self.name or type(self).__name__.lower()
        self.threshold = float_arg(owner, "threshold", threshold, minimum=0.0)
        if self.threshold > 1.0:
            raise SpotfakeError(f"{owner}: --model-args threshold={threshold!r}: must be at most 1")
        self.device = choose_device(device)
        self.batch_size = int_arg(owner, "batch_size", batch_size, minimum=1)
        self.weight_files: list[Path] = []
        """Every weight file read, in order; their sha256 is the checkpoint identity."""
        self.options: dict[str, Any] = {}
        """Other choices that change predictions (variant, dtype, ...): recorded in settings."""
        self._sha256: dict[str, str] | None = None

    def checkpoint_path(
        self,
        path: str | None,
        bundle: str | None = None,
        name: str | None = None,
        *,
        what: str = "checkpoint",
    ) -> Path:
        """The checkpoint file from ``path=`` or from ``bundle=DIR,name=NAME``; one line naming the file and
        where its authors publish it when it is missing."""
        if bundle:
            if path:
                raise SpotfakeError(f"{self.arch}: give path= or bundle=,name=, not both")
            return bundle_file(bundle, name, self.bundle_files, self.arch)
        if name:
            raise SpotfakeError(f"{self.arch}: name={name!r} needs bundle=<downloaded bundle folder>")
        return require_file(path, f"{self.arch} {what}", self.published)

    def read_state(
        self,
        file: Path,
        *,
        containers: Sequence[str] = CONTAINERS,
        strip: Sequence[str] = ("module.",),
        renames: Sequence[tuple[str, str]] = (),
        allow_namespace: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Read ``file`` safely (no arbitrary unpickling; a one-file zip as ``torch.hub`` publishes is
        unpacked first) as a flat state dict (see
        :func:`~spotfake.adapters.experts.checkpoints.state_dict_from`) and count it in the identity.
        ``allow_namespace`` lets the ``argparse.Namespace`` of saved training options through."""
        obj, _ = load_checkpoint(unpack_legacy_zip(file, cache_root()), allow_namespace=allow_namespace)
        self.add_file(file)
        return state_dict_from(obj, file, containers=containers, strip=strip, renames=renames)

    def read_configured(
        self,
        path: str | Path | None,
        defaults: Mapping[str, Any],
        sizes: Mapping[str, str | None] | None = None,
    ) -> tuple[Path, Any]:
        """A checkpoint that may carry its architecture config: the authors' file, or what ``spotfake train
        classifier`` writes (a folder holding ``model.safetensors``; the config in its metadata or in a
        JSON file beside it). Sets :attr:`config` (``defaults``, then the stored config, then the
        ``--model-args`` ``sizes`` given, e.g. ``resize=``), counts the file in the identity and returns
        (the file, the checkpoint object, safely loaded)."""
        given = Path(path).expanduser() if path else None
        if given is not None and given.is_dir():
            given = given / WEIGHTS_FILE
        weights = require_file(given, f"{self.arch} checkpoint", self.published)
        obj, metadata = load_checkpoint(weights)
        arch = str(defaults["arch"])
        self.config = merge_config(defaults, read_config(weights, metadata), arch, str(weights))
        for key, value in (sizes or {}).items():
            if value is not None:
                self.config[key] = parse_size(arch, value, key)
        self.add_file(weights)
        return weights, obj

    def add_file(self, path: str | Path) -> None:
        """Count a weight file (or every weight file in a folder) in the checkpoint identity."""
        root = Path(path).expanduser()
        files = weight_files(root) if root.is_dir() else [root]
        if not files:
            raise SpotfakeError(f"{self.arch}: no weight files in {root}")
        self.weight_files.extend(files)
        self._sha256 = None

    def use(self, network: torch.nn.Module, spec: Preprocess) -> None:
        """Set the loaded network (eval mode, on the device) and the preprocessing spec."""
        self.network = network.eval().to(self.device)
        self.spec = spec
        self._transform = spec.build()

    def preprocess(self, image: Any) -> torch.Tensor:
        """One RGB PIL image -> a float tensor (3, H, W), ready for the network."""
        return self._transform(image)

    def preprocess_item(self, item: Item) -> torch.Tensor:
        """The network input of a one-image sample; an adapter whose input depends on the sample id (D3's
        seeded patch shuffle) overrides this."""
        return self.preprocess(item.images[0])

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """One logit per image of ``batch`` (N, 3, H, W)."""
        return self.network(batch).reshape(-1)

    def checkpoint_sha256(self) -> dict[str, str]:
        """``{file name: sha256}`` of every weight file read (streamed once, then cached)."""
        if self._sha256 is None:
            self._sha256 = files_sha256(self.weight_files)
        return self._sha256

    def preprocessing_settings(self) -> dict[str, Any]:
        """The preprocessing choices that change predictions (recorded in settings)."""
        return {
            "arch": self.arch,
            "preprocess": self.spec.to_dict(),
            **self.options,
            "sha256": self.checkpoint_sha256(),
        }

    def weights_hash(self) -> str | None:
        return combined_hash(self.checkpoint_sha256()) if self.weight_files else None

    def settings(self) -> dict[str, Any]:
        return {"threshold": self.threshold, **self.preprocessing_settings()}

    def scores(self, images: Sequence[Any]) -> list[float]:
        """p(fake) for each image (no per-image error handling: for scripts and training checks)."""
        results = self._infer({i: self.preprocess(img) for i, img in enumerate(images)})
        return [results[i][0] for i in range(len(images))]

    def predict(self, items: Sequence[Item]) -> list[Response]:
        errors: dict[int, str] = {}
        tensors: dict[int, torch.Tensor] = {}
        for index, item in enumerate(items):
            if len(item.images) != 1:
                errors[index] = (
                    f"{self.name or 'classifier'} takes exactly one image per sample, "
                    f"sample {item.sample.id} has {len(item.images)}"
                )
                continue
            try:
                tensors[index] = self.preprocess_item(item)
            except (ValueError, OSError, RuntimeError) as exc:
                errors[index] = f"preprocessing failed for sample {item.sample.id}: {exc}"
        results = self._infer(tensors)
        responses = []
        for index in range(len(items)):
            if index in errors:
                responses.append(Response(error=errors[index]))
                continue
            p_fake, seconds = results[index]
            responses.append(
                Response(text=verdict_text(p_fake, self.threshold), score=p_fake, latency_s=seconds)
            )
        return responses

    def _infer(self, tensors: Mapping[int, torch.Tensor]) -> dict[int, tuple[float, float]]:
        """(p(fake), seconds per image) for each tensor, run in batches of equal shape."""
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for key, tensor in tensors.items():
            groups[tuple(tensor.shape)].append(key)
        out: dict[int, tuple[float, float]] = {}
        for keys in groups.values():
            for start in range(0, len(keys), self.batch_size):
                chunk = keys[start : start + self.batch_size]
                began = time.perf_counter()
                with torch.inference_mode():
                    logits = self.logits(torch.stack([tensors[k] for k in chunk]).to(self.device))
                probs = torch.sigmoid(logits.float()).cpu().tolist()
                share = (time.perf_counter() - began) / len(chunk)
                out.update({k: (float(p), share) for k, p in zip(chunk, probs, strict=True)})
        return out

    def close(self) -> None:
        self.network = torch.nn.Identity()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
