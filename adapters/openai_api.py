"""OpenAI-compatible chat-completions APIs: GPT-4o and any vLLM, SGLang or llama.cpp server.

Each sample is one ``POST {base_url}/chat/completions`` with the images as base64 data URLs and the
question as text, ``temperature=0``. Requests run in a bounded thread pool; 429, 5xx, timeouts and
connection errors are retried with exponential backoff and jitter, waiting at least what ``Retry-After``
says. A sample that still fails gets ``Response(error=...)``; a rejected key or an unknown model or route
(401/403/404) stops the run, since every other sample would fail the same way.

The key is read from the environment (``OPENAI_API_KEY`` unless ``api_key_env`` names another variable)
and is never part of the settings, the fingerprint, a response or an error message. The HTTP client is
``requests`` (already a dependency of the stack), so that retries, Retry-After and redaction are
under this module's control and the same code talks to every OpenAI-compatible server.
"""

from __future__ import annotations

import base64
import email.utils
import io
import logging
import os
import random
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from adapters.model_args import choice_arg, float_arg, int_arg
from harness.errors import SpotfakeError
from harness.model import Item, Model
from harness.types import Response

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
FATAL_STATUSES = {
    401: "the API key was rejected; set {env} to a valid key",
    403: "the API key may not use this model or route; check {env} and model=",
    404: "no such model or route; check model= and base_url= (it usually ends in /v1)",
}
IMAGE_TAG = re.compile(r"<image>\s*")
SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-*]{6,}"),
    re.compile(r"(?i)(bearer\s+)[^\s\"',]+"),
)
DETAILS = ("auto", "low", "high", "none")
IMAGE_FORMATS = ("png", "jpeg")
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")


class FatalApiError(SpotfakeError):
    """An answer that every later request would get too (bad key, unknown model): the run stops."""


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with the given secrets, anything shaped like an OpenAI key and bearer tokens masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = SECRET_PATTERNS[0].sub("[redacted]", text)
    return SECRET_PATTERNS[1].sub(r"\1[redacted]", text)


def public_url(url: str) -> str:
    """``url`` without user:password, query or fragment (they can hold credentials); no trailing slash."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def image_data_url(image: Any, image_format: str = "png", jpeg_quality: int = 90) -> str:
    """An RGB PIL image as a ``data:`` URL (PNG, or JPEG at ``jpeg_quality``); same image, same bytes."""
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    if image_format == "jpeg":
        rgb.save(buffer, format="JPEG", quality=jpeg_quality)
        mime = "image/jpeg"
    else:
        rgb.save(buffer, format="PNG")
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None if absent
    or unreadable."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
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


class OpenAIChatModel(Model):
    """An OpenAI-compatible chat model; ``--model-args`` are strings:

    ``model`` (required, e.g. gpt-4o or the served name), ``base_url`` (https://api.openai.com/v1),
    ``api_key_env`` (OPENAI_API_KEY), ``max_tokens`` (512), ``max_tokens_field`` (max_tokens |
    max_completion_tokens), ``detail`` (auto | low | high | none = omitted), ``image_format`` (png | jpeg),
    ``jpeg_quality`` (90), ``system_prompt``, ``seed``, ``concurrency`` (4), ``timeout`` (seconds, 120),
    ``max_retries`` (6), ``backoff`` (first backoff in seconds, 1), ``backoff_max`` (60),
    ``max_retry_after`` (longest Retry-After honoured, 300).
    """

    kind = "lmm"
    needs_images = True

    def __init__(
        self,
        model: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: str = "OPENAI_API_KEY",
        max_tokens: str | int = 512,
        max_tokens_field: str = "max_tokens",
        detail: str = "auto",
        image_format: str = "png",
        jpeg_quality: str | int = 90,
        system_prompt: str | None = None,
        seed: str | int | None = None,
        concurrency: str | int = 4,
        timeout: str | float = 120,
        max_retries: str | int = 6,
        backoff: str | float = 1.0,
        backoff_max: str | float = 60.0,
        max_retry_after: str | float = 300.0,
        api_key: str | None = None,
    ) -> None:
        if api_key is not None:
            raise SpotfakeError(
                "openai: do not pass the key in --model-args (they are recorded with the results); "
                "set OPENAI_API_KEY, or api_key_env=<name of the variable holding it>"
            )
        if not model:
            raise SpotfakeError("openai: --model-args model=<name> is required (e.g. model=gpt-4o)")
        if not re.match(r"^https?://[^/\s]+", str(base_url).strip()):
            raise SpotfakeError(
                f"openai: base_url={public_url(str(base_url))!r}: expected http(s)://host[:port]/v1"
            )
        self.model = str(model)
        self.base_url = str(base_url).strip().rstrip("/")
        self.api_key_env = str(api_key_env)
        self.max_tokens = int_arg("openai", "max_tokens", max_tokens, minimum=1)
        self.max_tokens_field = choice_arg("openai", "max_tokens_field", max_tokens_field, MAX_TOKENS_FIELDS)
        self.detail = choice_arg("openai", "detail", detail, DETAILS)
        self.image_format = choice_arg("openai", "image_format", image_format, IMAGE_FORMATS)
        self.jpeg_quality = int_arg("openai", "jpeg_quality", jpeg_quality, minimum=1)
        self.system_prompt = system_prompt or None
        self.seed = None if seed is None or seed == "" else int_arg("openai", "seed", seed)
        self.concurrency = int_arg("openai", "concurrency", concurrency, minimum=1)
        self.timeout = float_arg("openai", "timeout", timeout, minimum=0.001)
        self.max_retries = int_arg("openai", "max_retries", max_retries, minimum=0)
        self.backoff = float_arg("openai", "backoff", backoff, minimum=0)
        self.backoff_max = float_arg("openai", "backoff_max", backoff_max, minimum=0)
        self.max_retry_after = float_arg("openai", "max_retry_after", max_retry_after, minimum=0)
        self._rng = random.Random()
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------ contract

    def settings(self) -> dict[str, Any]:
        """What changes the answers: model, endpoint (without credentials), request shape. No secrets."""
        out: dict[str, Any] = {
            "model": self.model,
            "base_url": public_url(self.base_url),
            "temperature": 0,
            self.max_tokens_field: self.max_tokens,
            "detail": self.detail,
            "image_format": self.image_format,
            "system_prompt": self.system_prompt,
        }
        if self.image_format == "jpeg":
            out["jpeg_quality"] = self.jpeg_quality
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    def predict(self, items: Sequence[Item]) -> list[Response]:
        """One request per item, ``concurrency`` at a time; answers in the order of ``items``."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai")
        futures = [self._pool.submit(self.answer, item) for item in items]
        out: list[Response] = []
        try:
            for future in futures:
                out.append(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return out

    def close(self) -> None:
        """Wait for running requests and close the pool."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # ------------------------------------------------------------ one request

    def request_body(self, item: Item) -> dict[str, Any]:
        """The JSON body for one sample (deterministic: the same sample gives the same bytes)."""
        content: list[dict[str, Any]] = []
        for image in item.images:
            image_url: dict[str, Any] = {"url": image_data_url(image, self.image_format, self.jpeg_quality)}
            if self.detail != "none":
                image_url["detail"] = self.detail
            content.append({"type": "image_url", "image_url": image_url})
        content.append({"type": "text", "text": IMAGE_TAG.sub("", item.sample.prompt).strip()})
        messages: list[dict[str, Any]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": content})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            self.max_tokens_field: self.max_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    def answer(self, item: Item) -> Response:
        """Send one sample with retries; a per-sample failure comes back as ``Response(error=...)``."""
        key = os.environ.get(self.api_key_env) or ""
        try:
            body = self.request_body(item)
        except Exception as exc:  # an image PIL cannot encode
            return Response(error=f"cannot encode the images of sample {item.sample.id}: {exc}")
        try:
            return self._send(body, key)
        except FatalApiError:
            raise
        except Exception as exc:  # anything unexpected stays with this sample, without the key
            return Response(error=redact(f"{type(exc).__name__}: {exc}", [key]))

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

    def _send(self, body: dict[str, Any], key: str) -> Response:
        import requests

        url = f"{self.base_url}/chat/completions"
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        timeout = (min(10.0, self.timeout), self.timeout)
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            wait: float | None = None
            start = time.perf_counter()
            try:
                reply = self._session().post(url, json=body, headers=headers, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = redact(f"{type(exc).__name__}: {exc}", [key])
            else:
                latency = time.perf_counter() - start
                status = reply.status_code
                if status == 200:
                    return self._parse(reply, latency, key)
                message = _error_message(reply)
                last = redact(f"HTTP {status}: {message}", [key])
                if status in FATAL_STATUSES:
                    hint = FATAL_STATUSES[status].format(env=self.api_key_env)
                    raise FatalApiError(f"openai: {last} from {public_url(url)}: {hint}")
                if status not in RETRY_STATUSES:
                    return Response(error=last, latency_s=latency)
                wait = retry_after_seconds(reply.headers)
            if attempt == self.max_retries:
                break
            if wait is not None:
                delay = min(wait, self.max_retry_after)
                delay += self._rng.uniform(0, 0.1 * delay)
            else:
                delay = backoff_delay(attempt, self.backoff, self.backoff_max, self._rng)
            log.info("openai: %s; retry %d/%d in %.2fs", last, attempt + 1, self.max_retries, delay)
            time.sleep(delay)
        return Response(error=f"gave up after {self.max_retries + 1} attempts: {last}")

    def _parse(self, reply: Any, latency: float, key: str) -> Response:
        try:
            data = reply.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return Response(error=redact(f"malformed reply: {reply.text[:200]!r}", [key]), latency_s=latency)
        content = message.get("content")
        if isinstance(content, list):  # some servers return content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if content is None and message.get("refusal"):
            content = str(message["refusal"])
        usage_raw = data.get("usage") or {}
        usage = {
            k: int(v)
            for k, v in usage_raw.items()
            if k in ("prompt_tokens", "completion_tokens", "total_tokens") and isinstance(v, int)
        }
        if content is None:
            reason = choice.get("finish_reason")
            return Response(
                error=f"empty reply (finish_reason={reason})", latency_s=latency, usage=usage or None
            )
        return Response(text=str(content).strip(), latency_s=latency, usage=usage or None)


def _error_message(reply: Any) -> str:
    """The error message of a non-200 reply: ``error.message`` of an OpenAI-style body, else the text."""
    try:
        data = reply.json()
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
        if isinstance(error, str):
            return error[:300]
    except ValueError:
        pass
    return (reply.text or reply.reason or "").strip()[:300]
