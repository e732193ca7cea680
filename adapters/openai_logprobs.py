"""p(fake) from the token log-probabilities an OpenAI-compatible server returns (``logprobs``/``top_logprobs``).

A chat-completions reply asked with ``"logprobs": true, "top_logprobs": k`` carries, for each answer token,
the token chosen and the ``k`` most likely tokens at that position
(``choices[0].logprobs.content[i] = {"token", "logprob", "top_logprobs": [{"token", "logprob"}, ...]}``).
At the **verdict position** spotfake sums the probabilities of the listed tokens that belong to the "fake"
and the "real" token sets and returns

    p(fake) = mass(fake tokens) / (mass(fake tokens) + mass(real tokens))

Token strings are sorted into the sets by the rule of :mod:`adapters.verdict_scores` (the stripped,
lower-cased text is a prefix of a verdict word of at least 4 characters, or the whole word), after raw
byte-level and SentencePiece markers (``Ġ``, ``▁``) are read as spaces, so `` fake``, ``Fake`` and
``▁FAKE`` count. Only the listed tokens can count: mass outside the top ``k`` is unknown to the client.

The verdict position is the first answer position whose chosen token belongs to a set (the model states
its verdict there: "This is a **fake** image"); when no chosen token does, the first position whose top
list holds a token of either set; when none does, the sample has no score (an error naming what the
model said). Pure functions: no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from spotfake.adapters.verdict_scores import word_set_of
from spotfake.harness.types import Response

MARKERS = str.maketrans({"Ġ": " ", "▁": " ", "Ċ": "\n"})
"""Raw tokenizer markers some servers leave in token strings, read as the white space they stand for."""


@dataclass(frozen=True)
class TokenLogprobs:
    """One answer position: the token chosen, its log-probability, and the listed alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...]

    def candidates(self) -> list[tuple[str, float]]:
        """The listed tokens, plus the chosen one when the list leaves it out."""
        listed = list(self.top)
        if all(token != self.token for token, _ in listed):
            listed.append((self.token, self.logprob))
        return listed


@dataclass(frozen=True)
class LogprobScore:
    """p(fake) at the verdict position (0-based), or an error saying why there is none."""

    p_fake: float | None
    position: int | None = None
    error: str | None = None


class MalformedLogprobs(ValueError):
    """``choices[0].logprobs`` is there but not in the chat-completions shape."""


def token_set(token: str) -> str | None:
    """ "fake", "real" or None for a token string as a server returns it."""
    return word_set_of(token.translate(MARKERS))


def _logprob(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value > 1e-6:
        raise MalformedLogprobs(f"{where}: logprob {str(value)[:40]!r} is not a log-probability")
    return min(float(value), 0.0)


def _position(entry: object, index: int) -> TokenLogprobs:
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        raise MalformedLogprobs(f"logprobs.content[{index}] has no token string")
    top: list[tuple[str, float]] = []
    for k, alt in enumerate(entry.get("top_logprobs") or []):
        if not isinstance(alt, dict) or not isinstance(alt.get("token"), str):
            raise MalformedLogprobs(f"logprobs.content[{index}].top_logprobs[{k}] has no token string")
        top.append(
            (alt["token"], _logprob(alt.get("logprob"), f"logprobs.content[{index}].top_logprobs[{k}]"))
        )
    return TokenLogprobs(
        entry["token"], _logprob(entry.get("logprob"), f"logprobs.content[{index}]"), tuple(top)
    )


def read_logprobs(body: bytes) -> list[TokenLogprobs] | None:
    """The first choice's per-token logprobs of a 200 reply, or None when the reply carries none (no
    ``logprobs`` object, or ``content: null``); :class:`MalformedLogprobs` for any other shape."""
    try:
        data = json.loads(body)
        choice = data["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
    if logprobs is None:
        return None
    if not isinstance(logprobs, dict):
        raise MalformedLogprobs("choices[0].logprobs is not an object")
    content = logprobs.get("content")
    if content is None:
        return None
    if not isinstance(content, list):
        raise MalformedLogprobs("choices[0].logprobs.content is not a list")
    return [_position(entry, i) for i, entry in enumerate(content)]


def verdict_position(positions: Sequence[TokenLogprobs]) -> int | None:
    """The position scored (rule in the module docstring), or None when no listed token is in a set."""
    for i, pos in enumerate(positions):
        if token_set(pos.token) is not None:
            return i
    for i, pos in enumerate(positions):
        if any(token_set(token) is not None for token, _ in pos.top):
            return i
    return None


def p_fake_at(position: TokenLogprobs) -> float | None:
    """mass(fake) / (mass(fake) + mass(real)) over the listed tokens; None when both masses are 0."""
    mass = {"fake": 0.0, "real": 0.0}
    for token, logprob in position.candidates():
        label = token_set(token)
        if label is not None:
            mass[label] += math.exp(logprob)
    total = mass["fake"] + mass["real"]
    return mass["fake"] / total if total > 0 else None


def score_positions(positions: Sequence[TokenLogprobs], top_k: int) -> LogprobScore:
    """p(fake) of one answer from its per-token logprobs, or an error naming what the model said."""
    index = verdict_position(positions)
    if index is None:
        said = "".join(p.token for p in positions)[:80]
        return LogprobScore(
            None,
            error=f"no token of the fake or real sets among the top {top_k} logprobs of the "
            f"{len(positions)} answer token(s) {said!r}; ask for a one-word answer (or raise "
            "top_logprobs= / score_tokens=), or use mode=generate",
        )
    value = p_fake_at(positions[index])
    if value is None:
        return LogprobScore(
            None, index, error=f"the verdict tokens at answer position {index} have probability 0"
        )
    return LogprobScore(value, index)


def scored_response(
    response: Response, body: bytes, sample_id: str, mode: str, top_k: int
) -> Response | None:
    """An answered ``response`` with p(fake) read from its reply ``body``: in ``mode`` "score" the text
    becomes the verdict word ("fake" when p(fake) >= 0.5), in "both" the answer keeps its text. A sample
    without a score comes back as its error; None when the reply carries no logprobs at all."""
    try:
        positions = read_logprobs(body)
    except MalformedLogprobs as exc:
        return Response(
            error=f"malformed logprobs for sample {sample_id}: {exc}", latency_s=response.latency_s
        )
    if positions is None:
        return None
    result = score_positions(positions, top_k)
    if result.p_fake is None:
        return Response(error=f"sample {sample_id}: {result.error}", latency_s=response.latency_s)
    if mode == "score":
        verdict = "fake" if result.p_fake >= 0.5 else "real"
        return Response(text=verdict, score=result.p_fake, latency_s=response.latency_s, usage=response.usage)
    response.score = result.p_fake
    return response
