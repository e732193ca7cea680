"""The OpenAI chat-completions wire format: the URL, the request headers, a reply's error text, and the
text and token usage of an answer. Pure functions: no I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.redaction import stored_text

USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")
ERROR_TEXT_LIMIT = 300
"""Characters of a server's error text kept in an error record (after redaction)."""
MALFORMED_TEXT_LIMIT = 200
"""Characters of a malformed reply kept in its error (after redaction)."""
FINISH_REASON_LIMIT = 40
"""Characters of a server's ``finish_reason`` kept (after redaction)."""


def chat_url(base_url: str) -> str:
    """``{base_url}/chat/completions``, keeping the base URL's query (e.g. ``?api-version=``)."""
    url = httpx.URL(base_url.strip())
    return str(url.copy_with(path=url.path.rstrip("/") + "/chat/completions"))


def request_headers(
    key: str, variable: str, label: str, error: type[SpotfakeError] = SpotfakeError
) -> dict[str, str]:
    """JSON headers, with ``Authorization: Bearer key`` when there is a key; a key no HTTP header can
    carry raises ``error`` naming the environment ``variable`` it came from (``label``: who asks)."""
    headers = {"Content-Type": "application/json"}
    if not key:
        return headers
    if not (key.isascii() and key.isprintable()) or " " in key:
        raise error(
            f"{label}: {variable} holds characters an HTTP header cannot carry "
            "(spaces, line breaks or non-ASCII); set it to the key alone"
        )
    headers["Authorization"] = f"Bearer {key}"
    return headers


def error_message(body: bytes, status: int) -> str:
    """The error text of a non-200 reply: ``error.message`` of an OpenAI-style body, else the body."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text.strip() or f"HTTP {status}"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return text.strip()


@dataclass(frozen=True)
class ChatAnswer:
    """What a 200 reply holds: the message text (cleaned and redacted) or an error, token usage, and why
    the answer ended (``finish_reason`` as the server wrote it: "stop", "length", ...; None if absent)."""

    text: str | None
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None


def read_answer(body: bytes, secrets: Sequence[str]) -> ChatAnswer:
    """The first choice's message text of a chat-completions reply (content parts joined; a refusal
    counts as the text), stored only through :func:`harness.redaction.stored_text`; a malformed or empty
    reply is an error naming what came back."""
    try:
        data = json.loads(body)
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        raw = body[:4096].decode("utf-8", errors="replace")
        return ChatAnswer(None, stored_text(f"malformed reply: {raw!r}", secrets, MALFORMED_TEXT_LIMIT))
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # some servers return content parts
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    if content is None and isinstance(message, dict) and message.get("refusal"):
        content = str(message["refusal"])
    usage_raw = data.get("usage") if isinstance(data, dict) else None
    usage = {
        k: int(v)
        for k, v in (usage_raw.items() if isinstance(usage_raw, dict) else ())
        if k in USAGE_FIELDS and type(v) is int and 0 <= v < 2**53
    }
    reason = choice.get("finish_reason") if isinstance(choice, dict) else None
    if content is None:
        return ChatAnswer(
            None, stored_text(f"empty reply (finish_reason={reason})", secrets, ERROR_TEXT_LIMIT), usage
        )
    finish = stored_text(reason, secrets, FINISH_REASON_LIMIT) if isinstance(reason, str) and reason else None
    return ChatAnswer(stored_text(str(content), secrets).strip(), None, usage, finish)
