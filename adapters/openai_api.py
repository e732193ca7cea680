"""OpenAI-compatible chat-completions APIs: GPT-4o and any vLLM, SGLang or llama.cpp server.

Each sample is one ``POST {base_url}/chat/completions`` with the images as base64 data URLs and the
question as text, ``temperature=0``. Requests of a batch run concurrently (at most ``concurrency`` at a
time) on asyncio with httpx (:mod:`harness.chat_client`, the client the judge uses too): each attempt has a total deadline (``timeout``)
and a reply size cap (``max_reply_bytes``); 429, 5xx, timeouts and connection errors are retried with
backoff, honouring ``Retry-After``. Ctrl-C cancels every request at once; batches already recorded stay.
``finish_reason`` is recorded as the server reports it ("length": the answer hit ``max_tokens``).

``mode=score`` asks for ``score_tokens`` (1) answer tokens with ``logprobs``/``top_logprobs`` and records
p(fake), the mass of the "fake" vs "real" token sets at the verdict position
(:mod:`adapters.openai_logprobs`); the response text is then the verdict word ("fake" when p(fake) >= 0.5).
``mode=both`` asks for the whole answer with logprobs and adds the score to it. An endpoint that returns no
logprobs stops the run at its first reply (:class:`LogprobsUnavailableError`); a later reply without them,
or one whose listed tokens hold neither set, is that sample's error.

What can go wrong, and what happens:

- one sample fails (its image cannot be encoded, a 400, a 5xx after every retry, a timeout): its record
  carries ``Response.error`` (and no answer), so a resumed run asks again;
- a rejected key or an unknown model or route (401/403/404): :class:`FatalApiError`, the run stops;
- the server looks down: :class:`ApiUnavailableError` (one line, exit 2) as soon as the first requests
  (as many as run at once) all failed without any answer, or ``max_failures`` requests in a row failed;
  the requests still queued are cancelled, what earlier batches recorded is kept and the same command
  resumes. A server refusing connections is given up on after the retries of the first wave (with the
  default backoff, 30 to 60 s).

Secrets: the key is read from the environment (``OPENAI_API_KEY`` unless ``api_key_env`` names another
variable) and is never part of the settings, the fingerprint or a message. Credentials in ``base_url``
(``user:password@``, ``?api-key=``...) are used for the requests but recorded and shown without them
(:mod:`harness.redaction`). Every text a server sends (answers and errors) is stored only after lone
surrogates are replaced and the key and URL credentials are masked, so a server that echoes the
Authorization header cannot put the key into samples.jsonl.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from collections.abc import Sequence
from typing import Any

from spotfake.adapters.model_args import choice_arg, float_arg, int_arg
from spotfake.adapters.openai_logprobs import scored_response
from spotfake.adapters.verdict_scores import VERDICT_WORDS
from spotfake.harness.chat_client.completions import (
    ERROR_TEXT_LIMIT,
    chat_url,
    error_message,
    read_answer,
    request_headers,
)
from spotfake.harness.chat_client.transport import GaveUp, Limits, Reply, Session, post_with_retries
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.images import image_data_url
from spotfake.harness.model import Item, Model
from spotfake.harness.redaction import (
    mask_in_logs,
    masked_url,
    public_url,
    stored_text,
    url_secrets,
    valid_port,
)
from spotfake.harness.types import Response

DEFAULT_BASE_URL = "https://api.openai.com/v1"
FATAL_STATUSES = {
    401: "the API key was rejected; set {env} to a valid key",
    403: "the API key may not use this model or route; check {env} and model=",
    404: "no such model or route; check model= and base_url= (it usually ends in /v1)",
}
IMAGE_TAG = re.compile(r"<image>\s*")
DETAILS = ("auto", "low", "high", "none")
IMAGE_FORMATS = ("png", "jpeg")
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")
MODES = ("generate", "score", "both")

OK, SERVER_FAILED, LOCAL_FAILED = "ok", "server", "local"
"""How one sample's request ended: answered, failed on the server's side, or failed here (encoding)."""


class FatalApiError(SpotfakeError):
    """An answer that every later request would get too (bad key, unknown model): the run stops."""


class LogprobsUnavailableError(SpotfakeError):
    """``mode=score``/``both`` against an endpoint whose first reply carries no logprobs: the run stops."""


class ApiUnavailableError(SpotfakeError):
    """The server looks down (the first requests all failed, or ``max_failures`` requests in a row
    failed): the run stops instead of recording a result made of errors."""


class OpenAIChatModel(Model):
    """An OpenAI-compatible chat model; ``--model-args`` are strings:

    ``model`` (required, e.g. gpt-4o or the served name), ``base_url`` (https://api.openai.com/v1),
    ``api_key_env`` (OPENAI_API_KEY), ``max_tokens`` (512), ``max_tokens_field`` (max_tokens |
    max_completion_tokens), ``detail`` (auto | low | high | none = omitted), ``image_format`` (png | jpeg),
    ``jpeg_quality`` (90), ``system_prompt``, ``seed``, ``concurrency`` (4), ``timeout`` (total seconds
    per request, 120), ``max_reply_bytes`` (8 MiB), ``max_retries`` (6), ``backoff`` (first backoff in
    seconds, 1), ``backoff_max`` (60), ``max_retry_after`` (longest Retry-After honoured, 300),
    ``max_failures`` (requests failing in a row that stop the run, 8; 0 = never stop), ``mode``
    (generate | score | both), ``top_logprobs`` (tokens listed per position for the score, 20: OpenAI's
    maximum), ``score_tokens`` (answer tokens asked for in mode=score, 1).
    """

    needs_images = True
    no_parameters = "served over an API: no local weights to count"

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
        max_reply_bytes: str | int = 8 * 2**20,
        max_retries: str | int = 6,
        backoff: str | float = 1.0,
        backoff_max: str | float = 60.0,
        max_retry_after: str | float = 300.0,
        max_failures: str | int = 8,
        mode: str = "generate",
        top_logprobs: str | int = 20,
        score_tokens: str | int = 1,
        api_key: str | None = None,
    ) -> None:
        if api_key is not None:
            raise SpotfakeError(
                "openai: do not pass the key in --model-args (they are recorded with the results); "
                "set OPENAI_API_KEY, or api_key_env=<name of the variable holding it>"
            )
        if not model:
            raise SpotfakeError("openai: --model-args model=<name> is required (e.g. model=gpt-4o)")
        if not re.match(r"^https?://[^/\s]+", str(base_url).strip()) or not valid_port(str(base_url)):
            raise SpotfakeError(
                f"openai: base_url={masked_url(str(base_url))!r}: expected http(s)://host[:port]/v1 with a port "
                "from 1 to 65535"
            )
        self.model = str(model)
        self.base_url = str(base_url).strip()
        self.api_key_env = str(api_key_env)
        self.max_tokens = int_arg("openai", "max_tokens", max_tokens, minimum=1)
        self.max_tokens_field = choice_arg("openai", "max_tokens_field", max_tokens_field, MAX_TOKENS_FIELDS)
        self.detail = choice_arg("openai", "detail", detail, DETAILS)
        self.image_format = choice_arg("openai", "image_format", image_format, IMAGE_FORMATS)
        self.jpeg_quality = int_arg("openai", "jpeg_quality", jpeg_quality, minimum=1)
        self.system_prompt = system_prompt or None
        self.seed = None if seed is None or seed == "" else int_arg("openai", "seed", seed)
        self.concurrency = int_arg("openai", "concurrency", concurrency, minimum=1)
        self.limits = Limits(
            timeout=float_arg("openai", "timeout", timeout, minimum=0.001),
            max_reply_bytes=int_arg("openai", "max_reply_bytes", max_reply_bytes, minimum=1024),
            max_retries=int_arg("openai", "max_retries", max_retries, minimum=0),
            backoff=float_arg("openai", "backoff", backoff, minimum=0),
            backoff_max=float_arg("openai", "backoff_max", backoff_max, minimum=0),
            max_retry_after=float_arg("openai", "max_retry_after", max_retry_after, minimum=0),
        )
        self.max_failures = int_arg("openai", "max_failures", max_failures, minimum=0)
        self.mode = choice_arg("openai", "mode", mode, MODES)
        self.top_logprobs = int_arg("openai", "top_logprobs", top_logprobs, minimum=1)
        self.score_tokens = int_arg("openai", "score_tokens", score_tokens, minimum=1)
        self.scored = 0
        self.failures_in_a_row = 0
        self.answered = 0
        self._rng = random.Random()
        self._session: Session | None = None

    # ------------------------------------------------------------ contract

    def settings(self) -> dict[str, Any]:
        """What changes the answers: model, endpoint (without credentials), request shape. No secrets."""
        out: dict[str, Any] = {
            "model": self.model,
            "base_url": public_url(self.base_url),
            "temperature": 0,
            self.max_tokens_field: self.answer_tokens,
            "detail": self.detail,
            "image_format": self.image_format,
            "system_prompt": self.system_prompt,
        }
        if self.image_format == "jpeg":
            out["jpeg_quality"] = self.jpeg_quality
        if self.seed is not None:
            out["seed"] = self.seed
        if self.mode != "generate":
            out["mode"] = self.mode
            out["score"] = {
                "position": "first answer token in a verdict set, else the first listing one",
                "top_logprobs": self.top_logprobs,
                "p_fake": "mass(fake tokens) / (mass(fake tokens) + mass(real tokens)) among the listed tokens",
                "words": {label: list(words) for label, words in VERDICT_WORDS.items()},
            }
        return out

    @property
    def answer_tokens(self) -> int:
        """The token limit sent: ``score_tokens`` in mode=score, else ``max_tokens``."""
        return self.score_tokens if self.mode == "score" else self.max_tokens

    def predict(self, items: Sequence[Item]) -> list[Response]:
        """One request per item, ``concurrency`` at a time; answers in the order of ``items``."""
        if self._session is None:
            self._session = Session(self.limits, connections=self.concurrency, workers=self.concurrency)
        return self._session.run(self._answer_all(self._session, list(items)))

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
            self.max_tokens_field: self.answer_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if self.mode != "generate":
            body["logprobs"] = True
            body["top_logprobs"] = self.top_logprobs
        return body

    def encoded_body(self, item: Item) -> bytes:
        """:meth:`request_body` as the bytes sent (UTF-8 JSON)."""
        return json.dumps(self.request_body(item)).encode("utf-8")

    def close(self) -> None:
        """Close the connections and the encoding threads."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def _request_parts(self) -> tuple[str, dict[str, str], list[str]]:
        """The URL, the headers (with the key from the environment) and the secrets to mask, shared by
        every request of a batch; a key no HTTP header can carry is a :class:`FatalApiError`."""
        key = os.environ.get(self.api_key_env) or ""
        headers = request_headers(key, self.api_key_env, "openai", FatalApiError)
        secrets = [key, *url_secrets(self.base_url)] if key else url_secrets(self.base_url)
        mask_in_logs(secrets)  # httpx logs each request's URL, query string included
        return chat_url(self.base_url), headers, secrets

    async def _answer_all(self, session: Session, items: list[Item]) -> list[Response]:
        """Every item's response; stops (cancelling the rest) when the server looks down."""
        gate = asyncio.Semaphore(self.concurrency)
        first_wave = min(self.concurrency, len(items))
        url, headers, secrets = self._request_parts()

        async def one(item: Item) -> tuple[Response, str]:
            async with gate:
                return await self._answer(session, item, url, headers, secrets)

        tasks = [asyncio.ensure_future(one(item)) for item in items]
        try:
            for finished in asyncio.as_completed(tasks):
                response, how = await finished
                self._count(response, how, first_wave)
            return [task.result()[0] for task in tasks]
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _answer(
        self, session: Session, item: Item, url: str, headers: dict[str, str], secrets: list[str]
    ) -> tuple[Response, str]:
        """Send one sample with retries; a per-sample failure comes back as ``Response(error=...)``."""
        try:
            content = await session.in_thread(self.encoded_body, item)
        except Exception as exc:  # an image PIL cannot encode
            message = f"cannot encode the images of sample {item.sample.id}: {exc}"
            return Response(error=stored_text(message, secrets, ERROR_TEXT_LIMIT)), LOCAL_FAILED
        outcome = await post_with_retries(
            session.client(),
            url,
            content,
            headers,
            self.limits,
            secrets=secrets,
            rng=self._rng,
            label="openai",
        )
        if isinstance(outcome, GaveUp):
            return Response(error=outcome.message), SERVER_FAILED
        if outcome.status in FATAL_STATUSES:
            hint = FATAL_STATUSES[outcome.status].format(env=self.api_key_env)
            last = stored_text(
                f"HTTP {outcome.status}: {error_message(outcome.body, outcome.status)}",
                secrets,
                ERROR_TEXT_LIMIT,
            )
            raise FatalApiError(f"openai: {last} from {public_url(url)}: {hint}")
        if outcome.status != 200:
            text = stored_text(
                f"HTTP {outcome.status}: {error_message(outcome.body, outcome.status)}",
                secrets,
                ERROR_TEXT_LIMIT,
            )
            return Response(error=text, latency_s=outcome.seconds), SERVER_FAILED
        response = parse_reply(outcome, secrets)
        if response.error or self.mode == "generate":
            return response, SERVER_FAILED if response.error else OK
        return self._scored(response, outcome.body, item.sample.id, url), OK

    def _scored(self, response: Response, body: bytes, sample_id: str, url: str) -> Response:
        """The answered ``response`` with its p(fake) (:func:`adapters.openai_logprobs.scored_response`);
        a reply without logprobs before any sample was scored stops the run."""
        scored = scored_response(response, body, sample_id, self.mode, self.top_logprobs)
        if scored is None:
            if self.scored == 0:
                raise LogprobsUnavailableError(
                    f"openai: {public_url(url)} returned no logprobs for model {self.model!r} (the reply has "
                    "no choices[0].logprobs.content): this endpoint does not offer logprobs/top_logprobs; "
                    "use mode=generate"
                )
            message = f"the reply for sample {sample_id} carries no logprobs"
            return Response(error=message, latency_s=response.latency_s)
        self.scored += scored.score is not None
        return scored

    def _count(self, response: Response, how: str, first_wave: int) -> None:
        """Count one finished request; raise ApiUnavailableError as soon as the server looks down:
        nothing answered yet and the first ``first_wave`` requests all failed, or ``max_failures`` in a
        row failed."""
        if how == LOCAL_FAILED:
            return
        if how == OK:
            self.answered += 1
            self.failures_in_a_row = 0
            return
        self.failures_in_a_row += 1
        if self.max_failures == 0:
            return
        where = public_url(self.base_url)
        if self.answered == 0 and self.failures_in_a_row >= min(first_wave, self.max_failures):
            raise ApiUnavailableError(
                f"openai: no answer from {where}: none of the first {self.failures_in_a_row} requests was "
                f"answered (last: {response.error}); is the server up? Rerun the same command to resume"
            )
        if self.failures_in_a_row >= self.max_failures:
            raise ApiUnavailableError(
                f"openai: the last {self.failures_in_a_row} requests to {where} failed (last: {response.error}); "
                "stopping (finished samples are kept; rerun the same command to resume, "
                "or raise max_failures=)"
            )


def parse_reply(reply: Reply, secrets: Sequence[str]) -> Response:
    """A 200 reply as a Response: the message text (cleaned and redacted), token usage and finish reason,
    or an error."""
    answer = read_answer(reply.body, secrets)
    usage = answer.usage or None
    return Response(
        text=answer.text,
        error=answer.error,
        latency_s=reply.seconds,
        usage=usage,
        finish_reason=answer.finish_reason,
    )
