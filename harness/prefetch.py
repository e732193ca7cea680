"""Decode images in background threads while the model works on the previous batch."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from spotfake.harness.types import Sample, SampleError

Decoded = tuple[Sample, list[Any] | None, str | None]
"""A sample, its decoded images (None on failure) and the failure message."""


Transform = Callable[[str, list[Any]], list[Any]]
"""``(sample_id, images) -> images``, applied right after decoding (e.g. a ``--perturb`` chain)."""


def _decode(sample: Sample, transform: Transform | None = None, max_pixels: int | None = None) -> Decoded:
    try:
        images = sample.load_images(max_pixels)
    except SampleError as exc:
        return sample, None, str(exc)
    return sample, images if transform is None else transform(sample.id, images), None


def _skip(sample: Sample) -> Decoded:
    return sample, [], None


def decoded_batches(
    samples: Sequence[Sample],
    batch_size: int,
    *,
    needs_images: bool,
    workers: int = 4,
    lookahead: int = 2,
    transform: Transform | None = None,
    max_pixels: int | None = None,
) -> Iterator[list[Decoded]]:
    """Yield batches of decoded samples in order, keeping ``lookahead`` batches of decoding in flight.

    Memory stays bounded by ``(lookahead + 1) * batch_size`` decoded images however large the task is,
    each of at most ``max_pixels`` (default :data:`harness.images.DEFAULT_MAX_PIXELS`).
    """
    if not needs_images:
        for start in range(0, len(samples), batch_size):
            yield [_skip(s) for s in samples[start : start + batch_size]]
        return
    window = max(1, (lookahead + 1) * batch_size)
    decode = partial(_decode, transform=transform, max_pixels=max_pixels)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="spotfake-decode") as pool:
        pending: deque[Future[Decoded]] = deque()
        position = 0
        batch: list[Decoded] = []
        while position < len(samples) or pending:
            while position < len(samples) and len(pending) < window:
                pending.append(pool.submit(decode, samples[position]))
                position += 1
            batch.append(pending.popleft().result())
            if len(batch) == batch_size or (position >= len(samples) and not pending):
                yield batch
                batch = []
