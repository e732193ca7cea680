"""The model interface every adapter implements, and the helpers to build one from the CLI."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.errors import SpotfakeError
from harness.registry import MODELS
from harness.types import Response, Sample

ModelKind = Literal["lmm", "expert", "baseline"]


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
    kind: ModelKind = "lmm"
    needs_images: bool = True
    batch_size: int = 8
    """Samples per ``predict`` call unless ``--batch-size`` says otherwise; adapters set their own."""

    def settings(self) -> dict[str, Any]:
        """Settings that change predictions (recorded in results and in the run key). Never secrets."""
        return {}

    def weights_hash(self) -> str | None:
        """A cheap hash of the weights (e.g. of file sizes and the first/last MiB), or None."""
        return None

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


def parse_model_args(text: str | None) -> dict[str, str]:
    """Parse ``key=value,key=value`` into a dict; values stay strings for the adapter to convert."""
    args: dict[str, str] = {}
    if not text:
        return args
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SpotfakeError(
                f"--model-args: expected key=value, got {part!r} (e.g. path=/models/x,batch_size=8)"
            )
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
    return model


def as_bool(value: str | bool, key: str) -> bool:
    """Read a ``--model-args`` boolean (true/false/1/0/yes/no)."""
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SpotfakeError(f"--model-args {key}={value!r}: expected true or false")
