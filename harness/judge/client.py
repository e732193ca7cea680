"""A small client for OpenAI-compatible chat-completions judges: retries, backoff, Retry-After, usage.

One :class:`JudgeClient` sends one request per call of :meth:`JudgeClient.complete`, from any number of
threads (one ``requests`` session per thread). 429, 5xx, timeouts and connection errors are retried
with exponential backoff and jitter, waiting at least what ``Retry-After`` says (capped); 401/403/404
stop the whole judge run (:class:`JudgeStop`), since every other request would fail the same way. The
API key comes from the environment only and never appears in a message, a file or a cache entry.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from spotfake.harness.errors import SpotfakeError

KEY_VARIABLES = ("SPOTFAKE_JUDGE_API_KEY", "OPENAI_API_KEY")
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
FATAL_HINTS = {
    401: "the API key was rejected; set SPOTFAKE_JUDGE_API_KEY (or OPENAI_API_KEY)",
    403: "the API key may not use this judge model; check the key and model=",
    404: "no such model or route; check model= and base_url= (it usually ends in /v1)",
}


class JudgeStop(SpotfakeError):
    """The judge cannot be used (bad key, unknown model, unreachable after bounded retries): stop."""


def api_key() -> str:
    """The judge's API key from the environment (empty when none is set: local servers need none)."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value
    return ""


def endpoint_host(base_url: str) -> str:
    """The host (and port) of ``base_url``: what results.json records of the endpoint, never a path,
    user, password or query."""
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


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


@dataclass
class Completion:
    """One answered request: the reply text (None on a per-request failure), the error, token usage."""

    text: str | None
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    attempts: int = 1


@dataclass
class ClientOptions:
    """Timeouts and retries: ``timeout`` per request (s), ``total_timeout`` for one request with all its
    retries (s), ``max_retries`` after the first attempt, ``backoff``/``backoff_max`` (s), and the longest
    ``Retry-After`` honoured (``max_retry_after``, s)."""

    timeout: float = 120.0
    total_timeout: float = 600.0
    max_retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0


class JudgeClient:
    """POSTs chat-completions bodies to ``{base_url}/chat/completions``; safe to share between threads."""

    def __init__(self, base_url: str, options: ClientOptions | None = None, seed: int = 0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.options = options or ClientOptions()
        self._key = api_key()
        self._local = threading.local()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    def _session(self) -> Any:
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key else text

    def _delay(self, attempt: int, asked: float | None) -> float:
        with self._rng_lock:
            if asked is None:
                return backoff_delay(attempt, self.options.backoff, self.options.backoff_max, self._rng)
            jitter = self._rng.random()
        wait = min(asked, self.options.max_retry_after)
        return wait + 0.1 * wait * jitter

    def complete(self, body: Mapping[str, Any]) -> Completion:
        """Send ``body`` with retries; a request-level failure is ``Completion(text=None, error=...)``.

        Raises :class:`JudgeStop` on 401/403/404, and when the endpoint stayed unreachable (connection
        refused or timed out on every attempt), so a dead judge ends the run after bounded retries.
        """
        import requests

        opts = self.options
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        deadline = time.monotonic() + opts.total_timeout
        last, unreachable = "no attempt", True
        for attempt in range(opts.max_retries + 1):
            asked: float | None = None
            left = deadline - time.monotonic()
            try:
                timeout = (min(10.0, opts.timeout, max(left, 0.1)), min(opts.timeout, max(left, 0.1)))
                reply = self._session().post(self.url, json=body, headers=headers, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = self._redact(f"{type(exc).__name__}: {exc}")[:300]
            else:
                unreachable = False
                if reply.status_code == 200:
                    return self._parse(reply, attempt + 1)
                last = self._redact(f"HTTP {reply.status_code}: {reply.text[:200]}")
                if reply.status_code in FATAL_HINTS:
                    raise JudgeStop(f"judge: {last} from {endpoint_host(self.url)}: "
                                    f"{FATAL_HINTS[reply.status_code]}")  # fmt: skip
                if reply.status_code not in RETRY_STATUSES:
                    return Completion(text=None, error=last, attempts=attempt + 1)
                asked = retry_after_seconds(reply.headers)
            if attempt == opts.max_retries:
                break
            delay = self._delay(attempt, asked)
            if time.monotonic() + delay >= deadline:
                last += f" (total timeout {opts.total_timeout:g}s reached)"
                break
            time.sleep(delay)
        if unreachable:
            raise JudgeStop(
                f"judge endpoint {endpoint_host(self.url)} unreachable after {attempt + 1} attempts: {last}; "
                "judged samples are kept, rerun to resume"
            )
        return Completion(
            text=None, error=f"gave up after {attempt + 1} attempts: {last}", attempts=attempt + 1
        )

    def _parse(self, reply: Any, attempts: int) -> Completion:
        try:
            data = reply.json()
            message = data["choices"][0].get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return Completion(text=None, error=f"malformed reply: {reply.text[:200]!r}", attempts=attempts)
        raw_usage = data.get("usage") if isinstance(data, dict) else None
        usage = {
            k: int(v)
            for k, v in (raw_usage or {}).items()
            if k in ("prompt_tokens", "completion_tokens", "total_tokens") and isinstance(v, int)
        }
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            return Completion(text=None, error="empty reply", usage=usage, attempts=attempts)
        return Completion(text=content, usage=usage, attempts=attempts)


def chat_body(
    model: str, prompt: str, image_urls: list[str], schema: Mapping[str, Any], max_tokens: int = 400
) -> dict[str, Any]:
    """The chat-completions body: images then text, temperature 0, a JSON-schema ``response_format``."""
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": u}} for u in image_urls]
    content.append({"type": "text", "text": prompt})
    return {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "temperature": 0,
        "max_tokens": max_tokens,
        "response_format": {"type": "json_schema", "json_schema": json.loads(json.dumps(schema))},
    }
