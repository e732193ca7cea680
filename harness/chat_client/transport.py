"""POSTing to an HTTP API with bounds on everything: time, size and retries.

Each attempt has a total deadline (connecting, sending, waiting and reading the whole reply), so a
server that sends a byte a second cannot hold a request open; a reply is read in chunks and dropped as
soon as it passes ``max_reply_bytes`` (its declared Content-Length is checked first). Retried statuses
(:data:`.backoff.RETRY_STATUSES`), timeouts and connection errors are retried with exponential backoff
and jitter, waiting at least what ``Retry-After`` says (capped), and never past ``total_timeout`` when
one is set. Everything runs on asyncio with httpx, so cancelling (Ctrl-C) ends every request at once.
Error texts come back through :func:`harness.redaction.stored_text`: secrets masked, then cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from spotfake.harness.chat_client.backoff import RETRY_STATUSES, retry_after_seconds, retry_delay
from spotfake.harness.chat_client.completions import ERROR_TEXT_LIMIT, error_message
from spotfake.harness.redaction import stored_text

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """How long, how big and how often: ``timeout`` is the total seconds of one attempt,
    ``total_timeout`` (None: unbounded) the seconds of one request with all its retries."""

    timeout: float
    max_reply_bytes: int
    max_retries: int
    backoff: float
    backoff_max: float
    max_retry_after: float
    total_timeout: float | None = None


@dataclass
class Reply:
    """A complete HTTP reply (any status), the seconds its attempt took and the attempts it needed."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float
    attempts: int = 1


@dataclass
class GaveUp:
    """No usable reply: every attempt failed (or the reply was too large). ``message`` is safe to store;
    ``reason`` is the last failure alone; ``replied`` says whether any attempt got an HTTP reply (False:
    the server could not be reached or never answered in time)."""

    message: str
    reason: str
    attempts: int
    replied: bool


class ReplyTooLarge(Exception):
    """The reply passed the size cap (declared or read)."""


class Session:
    """An httpx client and the event loop it lives on, kept from batch to batch so connections (and TLS
    sessions) are reused; on Python 3.10, which has no ``asyncio.Runner``, each batch gets a fresh loop
    and client. CPU and disk work (encoding images, writing a cache) runs on ``workers`` threads beside
    the requests."""

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


async def post_once(
    client: httpx.AsyncClient, url: str, content: bytes, headers: Mapping[str, str], limits: Limits,
    timeout: float | None = None,
) -> Reply:  # fmt: skip
    """One POST, read whole within ``timeout`` (default ``limits.timeout``) seconds; ReplyTooLarge past
    the size cap, asyncio.TimeoutError past the deadline, httpx.RequestError when the transport fails."""
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

    reply = await asyncio.wait_for(attempt(), timeout=limits.timeout if timeout is None else timeout)
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
    last, replied = "no attempt", False
    deadline = None if limits.total_timeout is None else time.monotonic() + limits.total_timeout
    attempt = 0
    for attempt in range(limits.max_retries + 1):
        wait: float | None = None
        left = None if deadline is None else max(0.001, deadline - time.monotonic())
        timeout = limits.timeout if left is None else min(limits.timeout, left)
        try:
            reply = await post_once(client, url, content, headers, limits, timeout)
        except ReplyTooLarge as exc:
            reason = (
                f"reply too large ({exc}; max_reply_bytes={limits.max_reply_bytes}); nothing of it was kept"
            )
            return GaveUp(reason, reason, attempt + 1, replied=True)
        except asyncio.TimeoutError:
            last = f"no complete reply within {timeout:g} s (timeout=, the total per request)"
        except httpx.RequestError as exc:
            last = stored_text(f"{type(exc).__name__}: {exc}", secrets, ERROR_TEXT_LIMIT)
        else:
            replied = True
            if reply.status not in RETRY_STATUSES:
                reply.attempts = attempt + 1
                return reply
            last = stored_text(
                f"HTTP {reply.status}: {error_message(reply.body, reply.status)}", secrets, ERROR_TEXT_LIMIT
            )
            wait = retry_after_seconds(reply.headers)
        if attempt == limits.max_retries:
            break
        delay = retry_delay(
            attempt,
            wait,
            base=limits.backoff,
            cap=limits.backoff_max,
            max_asked=limits.max_retry_after,
            rng=rng,
        )
        if deadline is not None and time.monotonic() + delay >= deadline:
            last += f" (total_timeout={limits.total_timeout:g} s reached)"
            break
        log.info("%s: %s; retry %d/%d in %.2fs", label, last, attempt + 1, limits.max_retries, delay)
        await asyncio.sleep(delay)
    attempts = attempt + 1
    message = f"gave up after {attempts} attempt{'s' if attempts > 1 else ''}: {last}"
    return GaveUp(message, last, attempts, replied)
