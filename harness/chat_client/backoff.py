"""When to retry a request and how long to wait first: retried statuses, ``Retry-After``, backoff."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
"""Statuses worth asking again: timeouts, conflicts, too early, rate limits and server errors."""


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds asked for by ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None if absent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000.0)
    except ValueError:
        pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half of ``min(cap, base * 2**attempt)`` plus a random
    share of the other half, so parallel workers do not retry in lockstep."""
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_delay(
    attempt: int, asked: float | None, *, base: float, cap: float, max_asked: float, rng: random.Random
) -> float:
    """Seconds before retry ``attempt + 1``: what the server asked for (at most ``max_asked``, plus up
    to 10% jitter), else :func:`backoff_delay`."""
    if asked is None:
        return backoff_delay(attempt, base, cap, rng)
    wait = min(asked, max_asked)
    return wait + rng.uniform(0, 0.1 * wait)
