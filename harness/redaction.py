"""Keeping secrets out of everything that is stored or printed, and server text safe to store.

A base URL can carry credentials (``https://user:pass@host/v1?api-key=...``): :func:`url_secrets` lists
them, :func:`public_url` is the URL without them. :func:`stored_text` is the one way a server's text
(an answer or an error body) becomes part of a record: lone surrogates replaced, every known secret and
anything shaped like a key masked, and only then cut to length, so a cut can never leave part of a key.
:func:`public_args` is how ``--model-args`` are recorded: every URL in them without its credentials.
:func:`mask_in_logs` masks secrets in what HTTP libraries log (httpx logs each request's full URL).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"
MIN_SECRET = 8
"""Shortest value masked wherever it occurs in a text."""
SECRET_PARAM = re.compile(r"(?i)key|token|secret|passw|pwd|auth|sig|credential|session|cookie")
"""Query parameter names whose values are credentials (api-key, key, token, access_token, sig, ...)."""

_KEY_SHAPES = (
    re.compile(r"sk-[A-Za-z0-9_\-*]{6,}"),  # OpenAI-style keys
    re.compile(r"(?i)(bearer\s+)[^\s\"',]+"),  # bearer tokens
    re.compile(r"(://)[^/\s@:]*:[^/\s@]*(@)"),  # user:password@ in any URL
)
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[\w.\-]*(?:key|token|secret|passw|pwd|auth|sig|credential|session)[\w.\-]*)=)[^&#\s\"']+"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_URL = re.compile(r"(?i)^[a-z][a-z0-9+.\-]*://")


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: user name and password, and the values of secret query parameters
    (each both as written and percent-decoded), for masking in texts. Values shorter than
    :data:`MIN_SECRET` are left out (masking ``"user"`` in every answer would garble it); the URL itself
    is never stored with them (:func:`public_url`)."""
    parts = urlsplit(url.strip())
    found: list[str] = []
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        found.extend(userinfo.split(":", 1))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if SECRET_PARAM.search(name):
            found.append(value)
    raw = re.findall(r"(?:^|&)([^=&]*)=([^&]*)", parts.query)
    found.extend(value for name, value in raw if SECRET_PARAM.search(unquote(name)))
    found.extend([unquote(s) for s in found])
    return sorted({s for s in found if len(s) >= MIN_SECRET}, key=len, reverse=True)


def public_url(url: str) -> str:
    """``url`` without user name, password, secret query parameters or fragment; no trailing slash.
    Other query parameters (e.g. ``api-version``) are kept: they change what the server does."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    port = parts.port if valid_port(url) else None  # a port urllib cannot read is left out, not raised
    if port:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if not SECRET_PARAM.search(k)]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), urlencode(query), ""))


def valid_port(url: str) -> bool:
    """Whether ``url``'s port, if it names one, is a port number (urllib raises on 99999 or ``:x``)."""
    try:
        port = urlsplit(url.strip()).port
    except ValueError:
        return False
    return port is None or port > 0


def url_userinfo(url: str) -> list[str]:
    """The user-info part of a URL (before the last ``@`` of its authority) and its pieces, found by
    text alone, so even a URL no parser accepts gives up its credentials for masking."""
    rest = url.strip().partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" not in authority:
        return []
    info = authority.rpartition("@")[0]
    return sorted({info, *info.split(":", 1)} - {""}, key=len, reverse=True)


def masked_url(url: str) -> str:
    """``url`` as it may be printed in a message, parseable or not: user info and secret query values
    masked (:func:`url_userinfo`, :func:`redact`)."""
    text = url.strip()
    info = url_userinfo(text)
    if info:
        scheme, _, rest = text.partition("://")
        text = f"{scheme}://{MASK}@{rest.partition(info[0] + '@')[2]}"
    return redact(text)


def public_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """``--model-args`` as recorded with results: every value that is a URL through :func:`public_url`."""
    return {k: public_url(v) if isinstance(v, str) and _URL.match(v.strip()) else v for k, v in args.items()}


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (which no UTF-8 file can hold) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, OpenAI-shaped keys, bearer tokens, URL passwords and secret query
    values masked."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _KEY_SHAPES[0].sub(MASK, text)
    text = _KEY_SHAPES[1].sub(rf"\1{MASK}", text)
    text = _KEY_SHAPES[2].sub(rf"\1{MASK}\2", text)
    return _SECRET_QUERY.sub(rf"\1{MASK}", text)


def stored_text(text: str, secrets: Iterable[str] = (), limit: int | None = None) -> str:
    """A server's text as it may be stored: cleaned, redacted, then cut to ``limit`` characters."""
    safe = redact(clean_text(text), secrets)
    if limit is not None and len(safe) > limit:
        return safe[:limit] + "..."
    return safe


HTTP_LOGGERS = ("httpx", "httpcore")
"""Loggers of the HTTP stack; httpx logs every request's URL, query string included, at INFO."""


class _MaskingFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact` over the secrets registered so far."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            secrets = list(self.secrets)
        record.msg = redact(clean_text(record.getMessage()), secrets)
        record.args = None
        return True


_FILTER = _MaskingFilter()


def mask_in_logs(secrets: Iterable[str], loggers: Iterable[str] = HTTP_LOGGERS) -> None:
    """Mask ``secrets`` (and every key-shaped text) in all later records of ``loggers`` (idempotent)."""
    with _FILTER.lock:
        _FILTER.secrets.update(s for s in secrets if s)
    for name in loggers:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
