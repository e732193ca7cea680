"""spotfake's ROUGE-L and CSS as Hugging Face evaluate modules, loaded offline from a local path."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import CssScorer, evaluate_module_path, rouge_l_scores

PREDICTIONS = ["This is a fake image; the fingers are malformed.", "", "A real photo with natural light."]
REFERENCES = [
    ["This is a fake image. The fingers are malformed."],
    ["This is a fake image."],
    ["This is a real image with natural lighting.", "A genuine photo."],
]


def test_module_paths() -> None:
    path = Path(evaluate_module_path("spotfake_rouge_l"))
    assert (path / "spotfake_rouge_l.py").is_file()
    assert evaluate_module_path("css") == evaluate_module_path("spotfake_css")
    with pytest.raises(SpotfakeError, match="unknown evaluate module"):
        evaluate_module_path("bleu")


def test_rouge_l_module_gives_the_same_values(tmp_path: Path) -> None:
    evaluate = pytest.importorskip("evaluate")
    module = evaluate.load(evaluate_module_path("spotfake_rouge_l"), cache_dir=str(tmp_path))
    out = module.compute(predictions=PREDICTIONS, references=REFERENCES)
    expected = rouge_l_scores(PREDICTIONS, REFERENCES)
    assert out["rouge_l_scores"] == expected
    assert out["rouge_l"] == pytest.approx(sum(expected) / 3)
    single = module.compute(predictions=["the cat sat"], references=["the cat sat down"])
    assert single["rouge_l"] == pytest.approx(2 * 0.75 / 1.75)


@pytest.mark.slow
def test_css_module_gives_the_same_values(tmp_path: Path) -> None:
    evaluate = pytest.importorskip("evaluate")
    module = evaluate.load(evaluate_module_path("spotfake_css"), cache_dir=str(tmp_path / "hf"))
    out = module.compute(predictions=PREDICTIONS, references=REFERENCES, cache_dir=str(tmp_path / "emb"))
    scorer = CssScorer(cache_dir=tmp_path / "emb2")
    expected = scorer.score(PREDICTIONS, REFERENCES)
    assert out["css_scores"] == pytest.approx(expected, abs=1e-6)
    assert out["css"] == pytest.approx(sum(expected) / 3, abs=1e-6)
    assert out["embedder_id"] == scorer.embedder_id
