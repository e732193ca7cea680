"""One batch through a model: decoded samples in, one checked response per sample out.

An image that failed to decode becomes an error response without reaching the model; a batch that fails
as a whole is retried sample by sample; and every response is checked before it can become a record: a
score outside [0, 1] (or NaN) becomes an error, lone surrogates in text are replaced, so nothing a model
returns can crash the record writer or a later reader.
"""

from __future__ import annotations

import logging
import math
import resource
import sys
import time

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.prefetch import Decoded
from spotfake.harness.redaction import clean_text
from spotfake.harness.types import Response

log = logging.getLogger("spotfake")


def _text(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def checked_response(response: Response, model_name: str) -> Response:
    """``response`` made safe to store: a bad score becomes an error, text becomes valid UTF-8."""
    response.text = _text(response.text)
    response.error = _text(response.error)
    score = response.score
    if score is not None and (
        isinstance(score, bool)
        or not isinstance(score, (int, float))
        or not math.isfinite(score)
        or not 0.0 <= score <= 1.0
    ):
        response.score = None
        response.error = f"model {model_name!r} returned score {score!r}, not p(fake) in [0, 1]"
    latency = response.latency_s
    if latency is not None and not (isinstance(latency, (int, float)) and math.isfinite(latency)):
        response.latency_s = None
    return response


def predict_batch(model: Model, batch: list[Decoded], strict: bool) -> list[Response]:
    """Responses for one decoded batch; images that failed to decode become error responses."""
    responses: list[Response | None] = [None] * len(batch)
    items: list[Item] = []
    slots: list[int] = []
    for i, (sample, images, error) in enumerate(batch):
        if error is not None:
            if strict:
                raise SpotfakeError(f"{error} (run without --strict to record it and go on)")
            responses[i] = Response(error=error)
        else:
            items.append(Item(sample=sample, images=images or []))
            slots.append(i)
    if items:
        started = time.perf_counter()
        try:
            out = model.predict(items)
        except SpotfakeError:
            raise
        except Exception as exc:
            if strict or len(items) == 1:
                raise
            log.warning("batch failed (%s: %s); retrying its samples one by one", type(exc).__name__, exc)
            out = []
            for item in items:
                try:
                    out.extend(model.predict([item]))
                except Exception as one:
                    out.append(Response(error=f"{type(one).__name__}: {one}"))
        if len(out) != len(items):
            raise SpotfakeError(
                f"model {model.name!r} returned {len(out)} responses for {len(items)} samples"
            )
        per_sample = (time.perf_counter() - started) / len(items)
        for slot, response in zip(slots, out, strict=True):
            if response.latency_s is None:
                response.latency_s = per_sample
            responses[slot] = checked_response(response, model.name)
    return [r if r is not None else Response(error="no response") for r in responses]


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process (and peak CUDA memory when torch uses a GPU), in MiB."""
    peak = {"cpu_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        peak["gpu_peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return peak
