"""POSTing to an HTTP API with bounds on everything: time, size and retries.

Each attempt has a total deadline (connecting, sending, waiting and reading the whole reply), so a
server that sends a byte a second cannot hold a request open; a reply is read in chunks and dropped as
soon as it passes ``max_reply_bytes`` (its declared Content-Length is checked first). 408/409/429/5xx,
timeouts and connection errors are retried with exponential backoff and jitter, waiting at least what
``Retry-After`` says (capped). Everything runs on asyncio with httpx, so cancelling (Ctrl-C) ends every
request at once. Error texts come back through :func:`harness.redaction.stored_text`: secrets masked,
then cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from spotfake.harness.judge.client import backoff_delay, retry_after_seconds
from spotfake.harness.redaction import stored_text

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
ERROR_TEXT_LIMIT = 300
"""Characters of a server's error text kept in an error record (after redaction)."""


@dataclass(frozen=True)
class Limits:
    """How long, how big and how often: ``timeout`` is the total seconds of one attempt."""

    timeout: float
    max_reply_bytes: int
    max_retries: int
    backoff: float
    backoff_max: float
    max_retry_after: float


@dataclass
class Reply:
    """A complete HTTP reply (any status) and the seconds its attempt took."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float


@dataclass
class GaveUp:
    """No usable reply: every attempt failed (or the reply was too large). ``message`` is safe to store."""

    message: str


class ReplyTooLarge(Exception):
    """The reply passed the size cap (declared or read)."""


class Session:
    """An httpx client and the event loop it lives on, kept from batch to batch so connections (and TLS
    sessions) are reused; on Python 3.10, which has no ``asyncio.Runner``, each batch gets a fresh loop
    and client. CPU work (encoding images) runs on ``workers`` threads beside the requests."""

    def __init__(self, limits: Limits, connections: int, workers: int) -> None:
        self.limits = limits
        self.connections = connections
        self.workers = workers
        self._runner: Any = None
        self._client: httpx.AsyncClient | None = None
        self._tls: Any = None
        self._threads: ThreadPoolExecutor | None = None

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run ``main`` to the end; Ctrl-C cancels it, and every request in flight, at once."""
        runner_type = getattr(asyncio, "Runner", None)
        if runner_type is None:
            return asyncio.run(self._fresh(main))
        if self._runner is None:
            self._runner = runner_type()
        result: T = self._runner.run(main)
        return result

    async def _fresh(self, main: Coroutine[Any, Any, T]) -> T:
        try:
            return await main
        finally:
            if self._client is not None:
                await self._client.aclose()
                self._client = None

    def client(self) -> httpx.AsyncClient:
        """The client (made on first use, inside the running loop)."""
        if self._client is None:
            if self._tls is None:
                self._tls = httpx.create_ssl_context()  # reads the CA bundle: once
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.limits.timeout, connect=min(10.0, self.limits.timeout)),
                limits=httpx.Limits(
                    max_connections=self.connections, max_keepalive_connections=self.connections
                ),
                verify=self._tls,
            )
        return self._client

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on one of the worker threads."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="spotfake-http")
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    def close(self) -> None:
        """Close the connections, the loop and the threads."""
        if self._runner is not None:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._runner.run(self._client.aclose())
            self._runner.close()
        self._runner = None
        self._client = None
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None


def error_message(reply: Reply) -> str:
    """The error text of a non-200 reply: ``error.message`` of an OpenAI-style body, else the body."""
    text = reply.body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text.strip() or f"HTTP {reply.status}"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return text.strip()


async def post_once(
    client: httpx.AsyncClient, url: str, content: bytes, headers: Mapping[str, str], limits: Limits
) -> Reply:
    """One POST, read whole within ``limits.timeout`` seconds; ReplyTooLarge past the size cap,
    asyncio.TimeoutError past the deadline, httpx.RequestError when the transport fails."""
    start = time.perf_counter()

    async def attempt() -> Reply:
        async with client.stream("POST", url, content=content, headers=dict(headers)) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limits.max_reply_bytes:
                raise ReplyTooLarge(f"declared {int(declared)} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limits.max_reply_bytes:
                    raise ReplyTooLarge(f"more than {limits.max_reply_bytes} bytes read")
                chunks.append(chunk)
            return Reply(response.status_code, response.headers, b"".join(chunks), 0.0)

    reply = await asyncio.wait_for(attempt(), timeout=limits.timeout)
    reply.seconds = time.perf_counter() - start
    return reply


async def post_with_retries(
    client: httpx.AsyncClient,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    limits: Limits,
    *,
    secrets: Sequence[str],
    rng: random.Random,
    label: str,
) -> Reply | GaveUp:
    """POST with retries: the first reply whose status is not retried, or GaveUp with a storable message."""
    last = "no attempt"
    for attempt in range(limits.max_retries + 1):
        wait: float | None = None
        try:
            reply = await post_once(client, url, content, headers, limits)
        except ReplyTooLarge as exc:
            return GaveUp(
                f"reply too large ({exc}; max_reply_bytes={limits.max_reply_bytes}); nothing of it was kept"
            )
        except asyncio.TimeoutError:
            last = f"no complete reply within {limits.timeout:g} s (timeout=, the total per request)"
        except httpx.RequestError as exc:
            last = stored_text(f"{type(exc).__name__}: {exc}", secrets, ERROR_TEXT_LIMIT)
        else:
            if reply.status not in RETRY_STATUSES:
                return reply
            last = stored_text(f"HTTP {reply.status}: {error_message(reply)}", secrets, ERROR_TEXT_LIMIT)
            wait = retry_after_seconds(reply.headers)
        if attempt == limits.max_retries:
            break
        if wait is not None:
            delay = min(wait, limits.max_retry_after)
            delay += rng.uniform(0, 0.1 * delay)
        else:
            delay = backoff_delay(attempt, limits.backoff, limits.backoff_max, rng)
        log.info("%s: %s; retry %d/%d in %.2fs", label, last, attempt + 1, limits.max_retries, delay)
        await asyncio.sleep(delay)
    attempts = limits.max_retries + 1
    return GaveUp(f"gave up after {attempts} attempt{'s' if attempts > 1 else ''}: {last}")
