"""Explanation metrics as papers compute them, each under its own name so that they never mix.

"CSS" and "BLEU" name different numbers in different papers (all-MiniLM or CLIP text embeddings; BLEU-1,
BLEU-4 or the mean of BLEU-1..4, corpus or sentence level). Each variant here is a metric of its own,
with its label naming the variant, its exact recipe recorded in ``results.json['scoring']
['metric_variants']`` and the embedder it used beside it:

- ``bleu1``: corpus BLEU-1 from the same per-record counts as ``bleu4`` (:mod:`harness.metrics.bleu`);
- ``bleu_mean14``: the mean of BLEU-1..4 as pycocoevalcap computes it on whitespace tokens (M2F2-Det;
  :mod:`harness.metrics.coco_bleu`);
- ``bleu1_sentence``: the mean of per-sample sentence BLEU-1 on whitespace tokens (FakeReasoning);
- ``cider``: CIDEr-D as pycocoevalcap computes it on whitespace tokens (M2F2-Det; :mod:`harness.metrics.cider`);
- ``css_clip77``: CSS with the CLIP text encoder at 77 tokens (FakeReasoning; :mod:`harness.metrics.css_clip`),
  its folder given by the scoring option ``css_clip_model`` (``--css-clip-model DIR``).

They are registered with the built-ins in the opt-in group ``explanation_variants`` (``--metrics
+explanation_variants``): the ``explanation`` group, and so every task's default list, is unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import bleu
from spotfake.harness.metrics.cider import cider_d
from spotfake.harness.metrics.coco_bleu import N_STATS as N_COCO_STATS
from spotfake.harness.metrics.coco_bleu import coco_bleu_mean, coco_bleu_stats
from spotfake.harness.metrics.columns import BLEU_N, BLEU_STATS
from spotfake.harness.metrics.inputs import MetricInputs
from spotfake.harness.metrics.record_fields import (
    FieldContext,
    FieldValue,
    RecordField,
    mean_of_field,
    per_reference,
    spread,
)
from spotfake.harness.metrics.registry import MetricDef
from spotfake.harness.metrics.text_fields import BLEU_STATS as BLEU_STATS_FIELD
from spotfake.harness.metrics.types import FloatArray

if TYPE_CHECKING:
    from spotfake.harness.metrics.css_clip import ClipTextScorer

GROUP = "explanation_variants"
GROUP_MEMBERS = ("bleu1", "bleu1_sentence", "bleu4", "bleu_mean14", "cider", "css_clip77")
NGRAM_TOKENS = "lower-cased words and numbers [a-z0-9]+('[a-z]+)?, punctuation dropped"

VARIANTS: Mapping[str, str] = {
    "css": "all-MiniLM-L6-v2 mean-pooled sentence embeddings unless --css-model (id: css_embedder), "
    "256 word pieces, cosine, max over references",
    "css_gated": "css's embedder and recipe, 0 where the verdict is wrong",
    "css_clip77": "CLIP text encoder text_embeds (id: css_clip77_embedder), CLIPTokenizer truncated at 77 "
    "tokens, cosine, max over references (FakeReasoning)",
    "bleu1": f"corpus BLEU-1, {NGRAM_TOKENS}, closest reference length, no smoothing",
    "bleu4": f"corpus BLEU-4, {NGRAM_TOKENS}, closest reference length, no smoothing",
    "bleu_mean14": "mean of pycocoevalcap's Bleu(4) corpus BLEU-1..4 (closest reference length, 1e-15/1e-9 "
    "added to counts), whitespace tokens, case kept (M2F2-Det)",
    "bleu1_sentence": "mean of nltk sentence_bleu weights (1, 0, 0, 0) per sample, whitespace tokens, case "
    "kept (FakeReasoning)",
    "cider": "CIDEr-D as pycocoevalcap's Cider (n = 1..4, sigma 6, clipped, x10), document frequencies "
    "over the task's references, whitespace tokens, case kept (M2F2-Det)",
}
"""The exact recipe of each explanation metric whose name means different numbers in different papers."""

MISSING_CLIP = (
    "metric css_clip77 needs the CLIP text encoder: pass --css-clip-model DIR (a local copy of "
    "openai/clip-vit-large-patch14, as FakeReasoning), or drop the metric (--metrics -css_clip77)"
)


def _cider(context: FieldContext) -> list[FieldValue]:
    rows = context.with_references
    scores = cider_d([context.texts[i] for i in rows], [context.references[i] for i in rows])
    return spread(context, scores)


def sentence_bleu1(response: str, references: Sequence[str]) -> float:
    """nltk's ``sentence_bleu(refs, hyp, weights=(1, 0, 0, 0))`` on whitespace tokens: brevity penalty
    times the clipped unigram precision (0 for an empty response)."""
    from nltk.translate.bleu_score import sentence_bleu

    hyp = response.split()
    if not hyp:
        return 0.0
    with warnings.catch_warnings():  # nltk warns that higher orders have no overlap; their weight is 0
        warnings.simplefilter("ignore")
        return float(sentence_bleu([r.split() for r in references], hyp, weights=(1, 0, 0, 0)))


def _css_clip77(context: FieldContext) -> list[FieldValue]:
    rows = context.with_references
    texts = [context.texts[i] for i in rows]
    if not any(t.strip() for t in texts):
        return spread(context, [0.0] * len(rows))  # nothing to embed: every sample scores 0
    scorer = context.scorers.get("css_clip77")
    if scorer is None:
        raise SpotfakeError(MISSING_CLIP)
    refs = [context.references[i] for i in rows]
    return spread(context, scorer.score(texts, refs, cache_responses=not context.explains))


CIDER = RecordField("cider", "number", _cider, "CIDEr-D of the response against its references")
COCO_BLEU = RecordField(
    "coco_bleu_stats",
    "numbers",
    per_reference(coco_bleu_stats),
    "the ten n-gram counts of pycocoevalcap's corpus BLEU",
)
BLEU1_SENTENCE = RecordField(
    "bleu1_sentence",
    "number",
    per_reference(sentence_bleu1),
    "sentence BLEU-1 of the response on whitespace tokens",
)
CSS_CLIP77 = RecordField(
    "css_clip77", "number", _css_clip77, "CLIP text-embedding cosine (77 tokens), max over references"
)


def _corpus(fn: Callable[[FloatArray], FloatArray]) -> Callable[[MetricInputs, FloatArray], FloatArray]:
    """A metric's ``evaluate`` from a function of summed BLEU counts; None without references."""

    def evaluate(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
        s = inputs.sums(weights)
        return np.where(s[..., BLEU_N] > 0, fn(s[..., BLEU_STATS]), np.nan)

    evaluate.__doc__ = fn.__doc__
    return evaluate


def _coco_corpus(inputs: MetricInputs, weights: FloatArray) -> FloatArray:
    """``bleu_mean14`` from the weighted sums of the records' ``coco_bleu_stats``; None without references."""
    present, matrix = inputs.numbers_field(COCO_BLEU.name, N_COCO_STATS)
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    return np.where(w @ present > 0, coco_bleu_mean(w @ matrix), np.nan)


def explanation_variant_metrics() -> list[MetricDef]:
    """The variant metrics, in the order tables show them (``bleu4`` is registered with the built-ins)."""
    return [
        MetricDef(
            name="bleu1",
            label="BLEU-1",
            evaluate=_corpus(lambda sums: bleu.bleu_n(sums, 1)),
            needs="references",
            card="corpus BLEU-1 of explanations vs references",
            record_fields=(BLEU_STATS_FIELD,),
        ),
        MetricDef(
            name="bleu_mean14",
            label="BLEU-1..4 mean",
            evaluate=_coco_corpus,
            needs="references",
            card="mean of BLEU-1..4 as pycocoevalcap, whitespace tokens (M2F2-Det)",
            record_fields=(COCO_BLEU,),
        ),
        MetricDef(
            name="bleu1_sentence",
            label="BLEU-1 (sentence)",
            evaluate=mean_of_field("bleu1_sentence"),
            needs="references",
            card="mean sentence BLEU-1, whitespace tokens (FakeReasoning)",
            record_fields=(BLEU1_SENTENCE,),
        ),
        MetricDef(
            name="cider",
            label="CIDEr-D",
            evaluate=mean_of_field("cider"),
            needs="references",
            card="CIDEr-D of explanations vs references (pycocoevalcap's)",
            record_fields=(CIDER,),
        ),
        MetricDef(
            name="css_clip77",
            label="CSS (CLIP-77)",
            evaluate=mean_of_field("css_clip77"),
            needs="references",
            card="CSS with the CLIP text encoder at 77 tokens (FakeReasoning)",
            record_fields=(CSS_CLIP77,),
        ),
    ]


def check_scoring_options(metrics: Iterable[str], css_clip_model: str | None) -> None:
    """Raise the one-line error when a requested metric needs a scoring option that is not given (before
    any model runs)."""
    if "css_clip77" in set(metrics) and not css_clip_model:
        raise SpotfakeError(MISSING_CLIP)


def clip_text_scorer(css_clip_model: str | None, cache_dir: str | None = None) -> ClipTextScorer:
    """The CLIP text scorer of ``css_clip77`` for a scoring's options (its folder is required)."""
    if not css_clip_model:
        raise SpotfakeError(MISSING_CLIP)
    from spotfake.harness.metrics.css_clip import ClipTextScorer

    return ClipTextScorer(Path(css_clip_model), cache_dir)


def variant_info(metrics: Iterable[str], clip_scorer: ClipTextScorer | None = None) -> dict[str, object]:
    """What ``results.json['scoring']`` records for the requested ``metrics``: ``metric_variants`` (the
    recipe of each that has one) and, with ``css_clip77``, ``css_clip77_embedder``; empty when none."""
    names = list(dict.fromkeys(metrics))
    recipes = {name: VARIANTS[name] for name in names if name in VARIANTS}
    out: dict[str, object] = {"metric_variants": recipes} if recipes else {}
    if "css_clip77" in names:
        out["css_clip77_embedder"] = clip_scorer.embedder_id if clip_scorer is not None else None
    return out
