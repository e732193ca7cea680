"""What every binary real/fake classifier adapter shares: argument parsing, device choice, batched
preprocessing and inference, and the verdict from p(fake) at a threshold."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from spotfake.adapters.devices import choose_device  # one device rule for every adapter
from spotfake.adapters.model_args import float_arg, int_arg
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.types import Response

FAKE_TEXT = "This is a fake image."
REAL_TEXT = "This is a real image."


def parse_size(owner: str, value: str | int | None, key: str) -> int | None:
    """An image size in pixels, or None for ``none``/``0``/empty (keep the image as it is)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none", "0", "no", "off"}):
        return None
    size = int_arg(owner, key, value, minimum=0)
    return size or None


def verdict_text(p_fake: float, threshold: float) -> str:
    """The short answer text for p(fake) at ``threshold`` (p >= threshold means fake)."""
    return FAKE_TEXT if p_fake >= threshold else REAL_TEXT


class ClassifierAdapter(Model):
    """A binary classifier giving one logit per image; p(fake) = sigmoid(logit).

    Subclasses set ``self.network`` (an ``nn.Module`` in eval mode on ``self.device``) and implement
    :meth:`preprocess`; :class:`~spotfake.adapters.experts.expert.ExpertAdapter` adds the checkpoint, the
    preprocessing spec and the sha256 identity. Images of different sizes are batched by shape, so "no
    resize" preprocessing (as in the original evaluations) still runs batched.
    """

    needs_images = True

    network: torch.nn.Module

    def __init__(
        self, threshold: str | float = 0.5, device: str = "auto", batch_size: str | int = 32
    ) -> None:
        owner = self.name or type(self).__name__.lower()
        self.threshold = float_arg(owner, "threshold", threshold, minimum=0.0)
        if self.threshold > 1.0:
            raise SpotfakeError(f"{owner}: --model-args threshold={threshold!r}: must be at most 1")
        self.device = choose_device(device)
        self.batch_size = int_arg(owner, "batch_size", batch_size, minimum=1)

    @abstractmethod
    def preprocess(self, image: Any) -> torch.Tensor:
        """One RGB PIL image -> a float tensor (3, H, W), ready for the network."""

    def preprocess_item(self, item: Item) -> torch.Tensor:
        """The network input of a one-image sample; an adapter whose input depends on the sample id (D3's
        seeded patch shuffle) overrides this."""
        return self.preprocess(item.images[0])

    @abstractmethod
    def preprocessing_settings(self) -> dict[str, Any]:
        """The preprocessing choices that change predictions (recorded in settings)."""

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """One logit per image of ``batch`` (N, 3, H, W)."""
        return self.network(batch).reshape(-1)

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
