"""The verdict-only floor (a fixed sentence scored against the references, for models that do not
explain) is embedded once: scoring the same kind of model again reads every embedding from the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TOY_TASK
from test_metrics_css import make_tiny_sentence_transformer

from spotfake.harness.metrics import CssScorer
from spotfake.harness.scoring import ScoringOptions, make_record, score_and_summarize
from spotfake.harness.task import load_task
from spotfake.harness.types import Response


def test_a_second_scoring_of_the_floor_embeds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = load_task(str(TOY_TASK), metrics="+css,css_gated")
    options = ScoringOptions(
        n_bootstrap=0,
        css_model=str(make_tiny_sentence_transformer(tmp_path / "model")),
        css_cache_dir=str(tmp_path / "embeddings"),
    )
    embedded: list[int] = []
    loaded: list[int] = []
    real_embed, real_encoder = CssScorer.embed, CssScorer._encoder

    def counting_embed(self: CssScorer, texts: list[str]) -> object:
        embedded.append(len(texts))
        return real_embed(self, texts)

    def counting_encoder(self: CssScorer) -> object:
        if self._model is None:
            loaded.append(1)
        return real_encoder(self)

    monkeypatch.setattr(CssScorer, "embed", counting_embed)
    monkeypatch.setattr(CssScorer, "_encoder", counting_encoder)

    def score(kind: str, sentence: str) -> dict[str, object]:
        records = [make_record(s, Response(text=sentence), None) for s in task.samples]
        summary, _ = score_and_summarize(task, records, options, model_kind=kind)
        return summary.verdict_only_floor

    first = score("baseline", "This image is fake.")
    assert embedded == [1, 20] and loaded == [1]  # the fixed sentence, then the 20 references
    assert set(first) == {"rouge_l", "css", "css_gated"}  # the floor holds CSS
    embedded.clear()
    loaded.clear()
    again = score("baseline", "This image is fake.")
    assert embedded == [] and loaded == []  # nothing embedded, the embedder never loaded
    assert again == first

    other = score("baseline", "This image is real.")  # another baseline's sentence: only it is new
    assert embedded == [1] and other != first
    embedded.clear()
    score("lmm", "This image is fake.")  # an explaining model's texts are not cached
    assert embedded == [1]
