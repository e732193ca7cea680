"""``--judge-model`` / ``--judge-args``: which judge, where, and how hard to push it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.judge.client import ClientOptions, endpoint_host
from spotfake.harness.judge.rubrics import DEFAULT_RUBRIC, Rubric, rubric_named
from spotfake.harness.model import parse_model_args
from spotfake.harness.redaction import masked_url, redact, url_secrets, url_userinfo

BACKENDS = ("openai",)
DEFAULT_BASE_URL = "https://api.openai.com/v1"
KNOWN_ARGS = (
    "base_url", "model", "rubric", "image", "concurrency", "max_tokens", "timeout", "total_timeout",
    "max_reply_bytes", "max_retries", "backoff", "backoff_max", "max_retry_after",
)  # fmt: skip


@dataclass
class JudgeSettings:
    """A judge: an OpenAI-compatible endpoint and model, its rubric, whether it sees the image,
    concurrency, limits."""

    model: str
    base_url: str = DEFAULT_BASE_URL
    rubric: str = DEFAULT_RUBRIC
    """The rubric's name (:data:`harness.judge.rubrics.RUBRICS`)."""
    image: bool = True
    concurrency: int = 4
    max_tokens: int | None = None
    """The reply's token limit; None: the rubric's own (:attr:`harness.judge.rubrics.Rubric.max_tokens`)."""
    client: ClientOptions = field(default_factory=ClientOptions)

    @property
    def rubric_def(self) -> Rubric:
        """The rubric this judge grades by."""
        return rubric_named(self.rubric)

    @property
    def token_limit(self) -> int:
        """``max_tokens`` as sent: the one given, else the rubric's."""
        return self.max_tokens if self.max_tokens is not None else self.rubric_def.max_tokens

    def describe(self) -> dict[str, Any]:
        """What results.json records as ``scoring.judge`` (the endpoint's host only, never a key): the
        rubric's name, version, scale and prompt sha256 among it."""
        return {
            "backend": "openai",
            "model": self.model,
            "endpoint_host": endpoint_host(self.base_url),
            **self.rubric_def.describe(),
            "image": self.image,
            "temperature": 0,
        }


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SpotfakeError(f"--judge-args: {name} must be true or false, got {value!r}")


def _number(name: str, value: str, *, integer: bool, minimum: float) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise SpotfakeError(f"--judge-args: {name} must be {kind}, got {value!r}") from None
    if number < minimum:
        raise SpotfakeError(f"--judge-args: {name} must be >= {minimum:g}, got {value!r}")
    return number


_HOST = re.compile(r"[A-Za-z0-9._~%:\-]+")
"""Characters of a host name or an IP address (IPv6 without its brackets)."""


def checked_base_url(base_url: str) -> str:
    """``base_url`` when it is an http(s) URL that the client can use; otherwise one line that shows the
    URL with its credentials masked (never a traceback, never the password)."""
    shown = masked_url(base_url)
    if not base_url.strip().lower().startswith(("http://", "https://")):
        raise SpotfakeError(f"--judge-args: base_url must start with http:// or https://, got {shown!r}")
    from spotfake.harness.chat_client.completions import chat_url

    secrets = url_userinfo(base_url)
    try:
        secrets += url_secrets(base_url)
        parts = urlsplit(base_url.strip())
        port, host = parts.port, parts.hostname or ""
        chat_url(base_url)  # the client's own parser
    except Exception as exc:  # urllib's ValueError, httpx.InvalidURL: the message may quote the URL
        reason = redact(str(exc), secrets)
        raise SpotfakeError(f"--judge-args: base_url {shown!r} is not a valid URL ({reason})") from None
    if not _HOST.fullmatch(host) or port == 0:
        raise SpotfakeError(f"--judge-args: base_url {shown!r} has no valid host[:port]")
    return base_url.strip()


def parse_judge(backend: str | None, args_text: str | None) -> JudgeSettings:
    """Settings from ``--judge-model`` and ``--judge-args key=value,...``; bad input is one clear line."""
    if backend not in BACKENDS:
        raise SpotfakeError(f"--judge-model must be one of {', '.join(BACKENDS)} (got {backend!r})")
    args = parse_model_args(args_text, "--judge-args", "base_url=URL,model=NAME")
    for key in args:
        if key in ("api_key", "key"):
            raise SpotfakeError("--judge-args: the key comes from SPOTFAKE_JUDGE_API_KEY or OPENAI_API_KEY")
        if key not in KNOWN_ARGS:
            raise SpotfakeError(f"--judge-args: unknown key {key!r} (known: {', '.join(KNOWN_ARGS)})")
    if not args.get("model"):
        raise SpotfakeError("--judge-args needs model=NAME (the judge model's name on the endpoint)")
    base_url = checked_base_url(args.get("base_url", DEFAULT_BASE_URL))
    options = ClientOptions()
    for name in ("timeout", "total_timeout", "backoff", "backoff_max", "max_retry_after"):
        if name in args:
            setattr(
                options,
                name,
                _number(name, args[name], integer=False, minimum=0.001 if "timeout" in name else 0),
            )
    if "max_reply_bytes" in args:
        value = _number("max_reply_bytes", args["max_reply_bytes"], integer=True, minimum=1024)
        options.max_reply_bytes = int(value)
    if "max_retries" in args:
        options.max_retries = int(_number("max_retries", args["max_retries"], integer=True, minimum=0))
    return JudgeSettings(
        model=args["model"],
        base_url=base_url,
        rubric=rubric_named(args.get("rubric", DEFAULT_RUBRIC)).name,
        image=_bool("image", args["image"]) if "image" in args else True,
        concurrency=int(_number("concurrency", args.get("concurrency", "4"), integer=True, minimum=1)),
        max_tokens=(
            int(_number("max_tokens", args["max_tokens"], integer=True, minimum=16))
            if "max_tokens" in args
            else None
        ),
        client=options,
    )
