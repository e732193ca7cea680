"""The model interface every adapter implements, and the helpers to build one from the CLI."""

from __future__ import annotations

import hashlib
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model_kind import ModelKind
from spotfake.harness.registry import MODELS
from spotfake.harness.types import Response, Sample


@dataclass
class Item:
    """What a model receives for one sample: the sample and its decoded RGB images (PIL).

    The runner decodes images in background threads before the batch reaches the model; a model with
    ``needs_images = False`` gets an empty list and never touches the files.
    """

    sample: Sample
    images: list[Any] = field(default_factory=list)


class Model(ABC):
    """A detector: turns a batch of items into responses (text and/or p(fake)).

    Parsing, metrics, caching and resuming are the engine's job, not the adapter's.
    """

    name: str = ""
    kind: ModelKind | None = None
    """lmm, expert or baseline (:mod:`harness.model_kind`). Declare it once: on the class, or in the
    registration (``MODELS.register(..., kind=...)``), which then sets it on every instance it builds."""
    needs_images: bool = True
    batch_size: int = 8
    """Samples per ``predict`` call unless ``--batch-size`` says otherwise; adapters set their own."""
    no_parameters: str = "the adapter holds no torch modules"
    """Why :meth:`parameter_count` is None for this adapter (recorded beside the null count)."""

    def settings(self) -> dict[str, Any]:
        """Settings that change predictions (recorded in results and in the run key). Never secrets."""
        return {}

    def weights_hash(self) -> str | None:
        """A cheap hash of the weights (e.g. of file sizes and the first/last MiB), or None."""
        return None

    def parameter_count(self) -> int | None:
        """How many parameters the model has: unique tensors of the torch modules it holds, counted once
        (tied weights too), or None for a model without local weights (see :func:`count_parameters`)."""
        return count_parameters(self)

    def fingerprint(self) -> str:
        """A short stable hash of the model name, its settings and its weights."""
        payload = {"name": self.name, "settings": self.settings(), "weights": self.weights_hash()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @abstractmethod
    def predict(self, items: Sequence[Item]) -> list[Response]:
        """One response per item, in order. Raise for a failure of the whole batch; per-sample
        failures go in ``Response.error``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (HTTP sessions, GPU memory)."""


def count_parameters(holder: object) -> int | None:
    """``sum(p.numel())`` over the unique parameters of every ``torch.nn.Module`` that ``holder`` keeps in
    an attribute, in a list, tuple or dict attribute, or one attribute further down (e.g. a generator's
    ``model``); None when it holds none. Never imports torch: a model with modules has imported it."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    module_type = torch.nn.Module
    found: list[Any] = []

    def collect(value: object, depth: int) -> None:
        if isinstance(value, module_type):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item, depth)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item, depth)
        elif depth > 0 and hasattr(value, "__dict__") and not isinstance(value, type):
            for item in vars(value).values():
                collect(item, depth - 1)

    for value in getattr(holder, "__dict__", {}).values():
        collect(value, 1)
    if not found:
        return None
    unique = {id(p): p for module in found for p in module.parameters()}
    return int(sum(p.numel() for p in unique.values()))


def parse_model_args(
    text: str | None, flag: str = "--model-args", example: str = "path=/models/x,batch_size=8"
) -> dict[str, str]:
    """Parse ``key=value,key=value`` (given as ``flag``) into a dict; values stay strings for the adapter to
    convert."""
    args: dict[str, str] = {}
    if not text:
        return args
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SpotfakeError(f"{flag}: expected key=value, got {part!r} (e.g. {example})")
        args[key.strip()] = value.strip()
    return args


def build_model(name: str, args: dict[str, str] | None = None) -> Model:
    """Instantiate the registered model ``name`` with ``args``; a TypeError becomes a clear message."""
    factory = MODELS.get(name)
    try:
        model = factory(**(args or {}))
    except TypeError as exc:
        raise SpotfakeError(f"model {name!r}: bad --model-args ({exc})") from None
    if not model.name:
        model.name = name
    model.kind = registered_kind(name)
    return model


def registered_kind(name: str) -> ModelKind:
    """The one kind of registered model ``name``, importing its class only when the row does not say."""
    entry = MODELS.entry(name)
    if entry.meta.get("kind") is None:
        MODELS.get(name)  # the registry's check takes the class's kind into the row, or refuses
    return entry.meta["kind"]


class LazyModel:
    """A registered model that is built on first :meth:`get`: a run with nothing left to predict never
    builds it (see :mod:`harness.launch_index`). Unknown names fail at once, with a suggestion."""

    def __init__(self, name: str, args: Mapping[str, str] | None = None) -> None:
        entry = MODELS.entry(name)
        self.name = name
        self.args: dict[str, str] = dict(args or {})
        self.kind: ModelKind = registered_kind(name)
        target = entry.target
        self.target = (
            target
            if isinstance(target, str)
            else f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', '?')}"
        )
        self._model: Model | None = None

    @property
    def built(self) -> bool:
        return self._model is not None

    def get(self) -> Model:
        """The model, built now if it was not yet."""
        if self._model is None:
            self._model = build_model(self.name, self.args)
        return self._model

    def close(self) -> None:
        """Close the model if it was built."""
        if self._model is not None:
            self._model.close()
