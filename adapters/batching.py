"""Batching for local models: similar prompts together, and a batch that runs out of GPU memory halved."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from spotfake.adapters.devices import is_oom, release_memory

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class HalvingBatcher:
    """Runs items through a batch function ``batch_size`` at a time; a batch that runs out of GPU memory
    is halved and retried (down to one item), and the smaller size is kept for later calls."""

    def __init__(self, batch_size: int, *, oom_check: Callable[[BaseException], bool] = is_oom) -> None:
        self.batch_size = batch_size
        self.current = batch_size
        self._oom_check = oom_check

    def run(self, items: Sequence[T], fn: Callable[[Sequence[T]], list[R]]) -> list[R]:
        """``fn`` over consecutive chunks of ``items``; results concatenated in order. Errors other than
        out-of-memory, and out-of-memory at one item, propagate."""
        out: list[R] = []
        start = 0
        while start < len(items):
            chunk = items[start : start + self.current]
            try:
                results = fn(chunk)
            except Exception as exc:
                if not self._oom_check(exc) or len(chunk) == 1:
                    raise
                del exc
                release_memory()
                self.current = max(1, len(chunk) // 2)
                log.warning("out of memory at batch size %d; retrying at %d", len(chunk), self.current)
                continue
            if len(results) != len(chunk):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(chunk)} items")
            out.extend(results)
            start += len(chunk)
        return out


def sorted_order(keys: Sequence[Any]) -> list[int]:
    """Indices that sort ``keys`` (stable), used to batch similar prompt lengths together."""
    return sorted(range(len(keys)), key=lambda i: keys[i])
