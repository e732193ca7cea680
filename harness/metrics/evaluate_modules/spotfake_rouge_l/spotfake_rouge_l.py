"""spotfake ROUGE-L as an ``evaluate`` module: rouge-score's ROUGE-L F-measure (Porter stemmer on, full
text against full text, max over references), computed by :func:`harness.metrics.rouge_l_scores`.

Usage (offline)::

    import evaluate
    from spotfake.harness.metrics import evaluate_module_path

    rouge_l = evaluate.load(evaluate_module_path("spotfake_rouge_l"))
    rouge_l.compute(predictions=["a fake image"], references=[["this is a fake image"]])
    # {"rouge_l": 0.857..., "rouge_l_scores": [0.857...]}
"""

from __future__ import annotations

from typing import Any

import datasets
import evaluate

from spotfake.harness.metrics.rouge import rouge_l_scores

_CITATION = """\
@inproceedings{lin-2004-rouge,
    title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
    author = "Lin, Chin-Yew",
    booktitle = "Text Summarization Branches Out",
    year = "2004",
    publisher = "Association for Computational Linguistics",
    pages = "74--81",
}
"""

_DESCRIPTION = """\
ROUGE-L F-measure between each prediction and its reference(s): tokens are rouge-score's (lower-case,
[a-z0-9] runs, Porter-stemmed), the longest common subsequence is taken over the full texts (no sentence
splitting), the best reference counts, and an empty prediction scores 0. Values are identical to
rouge-score's RougeScorer(["rougeL"], use_stemmer=True); spotfake's implementation is much faster.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of texts to score.
    references: for each prediction, one reference text or a list of reference texts.
Returns:
    rouge_l: mean ROUGE-L F-measure over the predictions.
    rouge_l_scores: one ROUGE-L F-measure per prediction.
Examples:
    >>> rouge_l = evaluate.load(path)
    >>> rouge_l.compute(predictions=["the cat sat"], references=[["the cat sat down"]])["rouge_l"]
    0.8571428571428571
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SpotfakeRougeL(evaluate.Metric):
    """ROUGE-L F-measure, identical to rouge-score's, from spotfake."""

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
            reference_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(self, predictions: list[str], references: list[Any]) -> dict[str, Any]:
        scores = rouge_l_scores(predictions, references)
        mean = sum(scores) / len(scores) if scores else 0.0
        return {"rouge_l": mean, "rouge_l_scores": scores}
