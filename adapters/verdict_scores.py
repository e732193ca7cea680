"""p(fake) from one forward pass: the probability mass of "fake" vs "real" tokens at the answer position.

p(fake) = mass_fake / (mass_fake + mass_real), where a mass is the next-token probability summed over a
token set (the softmax's normaliser cancels, so this is ``sigmoid(logsumexp(fake) - logsumexp(real))`` of
the logits). With one token per set it is FakeVLM's two-token softmax; FakeScope sums token sets.

Token sets are derived from the tokenizer (:func:`verdict_token_sets`): every vocabulary token whose
decoded text, stripped and lower-cased, is a prefix of a verdict word of :data:`VERDICT_WORDS` at least
:data:`MIN_PREFIX` characters long (or the whole word), so " fake", "Fake", "▁FAKE", "Synth" and "authent"
all count. A piece that starts words of both sets
("gen": genuine / generated) is in neither. Special tokens never count.

Used by ``hf`` (``mode=score``: the first answer position after the chat template) and ``fakevlm``
(``mode=score``: after the prompt and " This is a", one token per word).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spotfake.harness.errors import SpotfakeError

if TYPE_CHECKING:
    import torch

    from spotfake.adapters.generation import LocalGenerator

VERDICT_WORDS: Mapping[str, tuple[str, ...]] = {
    "fake": ("fake", "synthetic", "generated", "ai", "forged", "manipulated"),
    "real": ("real", "authentic", "genuine"),
}
"""The words whose first tokens make each set ("ai" for "AI-generated")."""

MIN_PREFIX = 4
"""A token shorter than the word must hold at least this many of its first characters ("synt", "forg"), so
that common words that merely start a verdict word ("for", "man", "rea") do not count."""


@dataclass(frozen=True)
class VerdictTokens:
    """The token ids whose probability mass is p(fake) and p(real) (before normalising the two)."""

    fake: tuple[int, ...]
    real: tuple[int, ...]

    def described(self, tokenizer: Any) -> dict[str, list[str]]:
        """The tokens of each set as the tokenizer writes them (recorded in a run's settings)."""
        return {
            "fake": list(tokenizer.convert_ids_to_tokens(list(self.fake))),
            "real": list(tokenizer.convert_ids_to_tokens(list(self.real))),
        }


def word_set_of(piece: str, words: Mapping[str, Sequence[str]] = VERDICT_WORDS) -> str | None:
    """The set a decoded token belongs to ("fake", "real"), or None (no prefix of a word, or of both)."""
    norm = piece.strip().lower()
    if not norm:
        return None
    found = {
        label
        for label, forms in words.items()
        for word in forms
        if word.startswith(norm) and (len(norm) >= MIN_PREFIX or norm == word)
    }
    return found.pop() if len(found) == 1 else None


def verdict_token_sets(tokenizer: Any, owner: str, size: int | None = None) -> VerdictTokens:
    """Every vocabulary token of ``tokenizer`` (below ``size``, the width of the model's logits, when
    given) whose decoded text makes it a fake or a real token (rule in the module docstring); a
    SpotfakeError naming ``owner`` when either set is empty."""
    special = set(getattr(tokenizer, "all_special_ids", ()) or ())
    count = len(tokenizer) if size is None else min(len(tokenizer), size)
    ids = [i for i in range(count) if i not in special]
    texts = tokenizer.batch_decode([[i] for i in ids], skip_special_tokens=False)
    sets: dict[str, list[int]] = {"fake": [], "real": []}
    for token_id, text in zip(ids, texts, strict=True):
        label = word_set_of(text)
        if label is not None:
            sets[label].append(token_id)
    missing = [label for label, found in sets.items() if not found]
    if missing:
        raise SpotfakeError(
            f"{owner}: cannot score: no token of the vocabulary starts {' or '.join(missing)!s} "
            f"({', '.join(VERDICT_WORDS[missing[0]])}); use mode=generate"
        )
    return VerdictTokens(tuple(sets["fake"]), tuple(sets["real"]))


def p_fake_from_logits(logits: torch.Tensor, tokens: VerdictTokens) -> list[float]:
    """p(fake) per row of next-token ``logits`` ([rows, vocabulary]): mass of the fake set over both."""
    import torch

    fake = torch.logsumexp(logits[:, list(tokens.fake)].float(), dim=-1)
    real = torch.logsumexp(logits[:, list(tokens.real)].float(), dim=-1)
    return [float(v) for v in torch.sigmoid(fake - real).tolist()]


def score_rows(
    engine: LocalGenerator,
    texts: Sequence[str],
    images: Sequence[Sequence[Any]],
    ids: Sequence[str],
    tokens: VerdictTokens,
) -> list[tuple[float, str | None, float]]:
    """``(p_fake, error, seconds per sample)`` per row from one forward pass over the encoded batch
    (no generation); a row the processor rejects, or whose logits are not finite, gets an error."""
    kept, inputs, errors = engine.encode_isolating(texts, images, ids)
    results: list[tuple[float, str | None, float]] = [
        (float("nan"), errors.get(r), 0.0) for r in range(len(texts))
    ]
    if inputs is None:
        return results
    for row, result in zip(kept, score_encoded(engine, inputs, [ids[r] for r in kept], tokens), strict=True):
        results[row] = result
    return results


def score_encoded(
    engine: LocalGenerator, inputs: dict[str, Any], ids: Sequence[str], tokens: VerdictTokens
) -> list[tuple[float, str | None, float]]:
    """``(p_fake, error, seconds per sample)`` per row of an already encoded batch (rows named by
    ``ids``): one forward pass, the next-token logits after each prompt."""
    logits, seconds = engine.last_logits(inputs)
    out: list[tuple[float, str | None, float]] = []
    for sid, value in zip(ids, p_fake_from_logits(logits, tokens), strict=True):
        error = None if math.isfinite(value) else f"non-finite score for sample {sid} (model logits NaN/inf)"
        out.append((value, error, seconds / len(ids)))
    return out
