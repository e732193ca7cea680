"""The judge's requests: OpenAI-compatible chat completions on :mod:`harness.chat_client`.

One :class:`JudgeClient` sends the requests of a grading pass on a shared
:class:`~spotfake.harness.chat_client.transport.Session` (httpx on asyncio), so the judge has the model
adapter's bounds: a total deadline per attempt (``timeout``) and per request with its retries
(``total_timeout``), a reply-size cap (``max_reply_bytes``), retries with backoff and ``Retry-After``,
and Ctrl-C cancelling every request at once. 401/403/404 stop the whole judge run (:class:`JudgeStop`),
since every other request would fail the same way, and so does an endpoint that never answered any
attempt of a request. The API key comes from the environment only and is masked (with any credentials
in ``base_url``) in every text the judge stores.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from spotfake.harness.chat_client.completions import (
    ERROR_TEXT_LIMIT,
    chat_url,
    error_message,
    read_answer,
    request_headers,
)
from spotfake.harness.chat_client.transport import GaveUp, Limits, post_with_retries
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.redaction import mask_in_logs, stored_text, url_secrets

KEY_VARIABLES = ("SPOTFAKE_JUDGE_API_KEY", "OPENAI_API_KEY")
FATAL_HINTS = {
    401: "the API key was rejected; set SPOTFAKE_JUDGE_API_KEY (or OPENAI_API_KEY)",
    403: "the API key may not use this judge model; check the key and model=",
    404: "no such model or route; check model= and base_url= (it usually ends in /v1)",
}


class JudgeStop(SpotfakeError):
    """The judge cannot be used (bad key, unknown model, unreachable after bounded retries): stop."""


def api_key() -> tuple[str, str]:
    """The judge's API key from the environment and the variable holding it (empty when none is set:
    local servers need none)."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value, name
    return "", KEY_VARIABLES[0]


def endpoint_host(base_url: str) -> str:
    """The host (and port) of ``base_url``: what results.json records of the endpoint, never a path,
    user, password or query."""
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


@dataclass
class Completion:
    """One answered request: the reply text (None on a per-request failure), the error, token usage."""

    text: str | None
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    attempts: int = 1


@dataclass
class ClientOptions:
    """Bounds: ``timeout`` for one attempt, whole reply read (s), ``total_timeout`` for one request with
    all its retries (s), ``max_reply_bytes``, ``max_retries`` after the first attempt,
    ``backoff``/``backoff_max`` (s), and the longest ``Retry-After`` honoured (``max_retry_after``, s)."""

    timeout: float = 120.0
    total_timeout: float = 600.0
    max_reply_bytes: int = 8 * 2**20
    max_retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0

    def limits(self) -> Limits:
        """These options as the transport's limits."""
        return Limits(
            timeout=self.timeout,
            max_reply_bytes=self.max_reply_bytes,
            max_retries=self.max_retries,
            backoff=self.backoff,
            backoff_max=self.backoff_max,
            max_retry_after=self.max_retry_after,
            total_timeout=self.total_timeout,
        )


class JudgeClient:
    """POSTs chat-completions bodies to ``{base_url}/chat/completions`` (key and headers read once)."""

    def __init__(self, base_url: str, options: ClientOptions | None = None, seed: int = 0) -> None:
        self.url = chat_url(base_url)
        self.host = endpoint_host(base_url)
        self.options = options or ClientOptions()
        self.limits = self.options.limits()
        key, variable = api_key()
        self._headers = request_headers(key, variable, "judge", JudgeStop)
        self._secrets = [s for s in (key, *url_secrets(base_url)) if s]
        mask_in_logs(self._secrets)  # httpx logs each request's URL, query string included
        self._rng = random.Random(seed)

    @property
    def secrets(self) -> list[str]:
        """The texts masked in everything stored or printed: the API key and the URL's credentials."""
        return list(self._secrets)

    async def complete(self, client: httpx.AsyncClient, body: Mapping[str, Any]) -> Completion:
        """Send ``body`` with retries; a request-level failure is ``Completion(text=None, error=...)``.

        Raises :class:`JudgeStop` on 401/403/404, and when the endpoint never answered (connection
        refused or no complete reply in time on every attempt), so a dead judge ends the run after
        bounded retries.
        """
        content = json.dumps(body).encode("utf-8")
        outcome = await post_with_retries(
            client, self.url, content, self._headers, self.limits,
            secrets=self._secrets, rng=self._rng, label="judge",
        )  # fmt: skip
        if isinstance(outcome, GaveUp):
            if not outcome.replied:
                raise JudgeStop(
                    f"judge endpoint {self.host} unreachable after {outcome.attempts} attempts: "
                    f"{outcome.reason}; judged samples are kept, rerun to resume"
                )
            return Completion(text=None, error=outcome.message, attempts=outcome.attempts)
        if outcome.status != 200:
            text = error_message(outcome.body, outcome.status)
            last = stored_text(f"HTTP {outcome.status}: {text}", self._secrets, ERROR_TEXT_LIMIT)
            if outcome.status in FATAL_HINTS:
                raise JudgeStop(f"judge: {last} from {self.host}: {FATAL_HINTS[outcome.status]}")
            return Completion(text=None, error=last, attempts=outcome.attempts)
        answer = read_answer(outcome.body, self._secrets)
        return Completion(text=answer.text, error=answer.error, usage=answer.usage, attempts=outcome.attempts)


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
