"""hf adapter: p(fake) from the "fake"/"real" token sets at the first answer position (mode=score), the
finish reason of generated answers, and the default token budget of reasoning models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava, build_tiny_qwen2_vl
from PIL import Image

from spotfake.adapters.hf_lmm import HFImageTextModel
from spotfake.adapters.token_budget import default_max_new_tokens
from spotfake.adapters.verdict_scores import VERDICT_WORDS, verdict_token_sets, word_set_of
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item
from spotfake.harness.types import Sample
from spotfake.harness.verdict import parse_verdict


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("hf-score")
    return {
        "llava": build_tiny_llava(root / "tiny-llava-chat", chat_template=LLAVA_CHAT_TEMPLATE),
        "qwen2_vl": build_tiny_qwen2_vl(root / "tiny-qwen2-vl"),
    }


def image(seed: int) -> Image.Image:
    return Image.fromarray(np.random.RandomState(seed).randint(0, 256, (48, 56, 3), dtype=np.uint8))


def items(n: int = 5) -> list[Item]:
    return [
        Item(
            Sample(id=f"q{i}", label="fake", prompt="Is this image real or fake?" + " Look." * i), [image(i)]
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("piece", "label"),
    [
        ("fake", "fake"),
        (" Fake", "fake"),
        ("FAKE", "fake"),
        ("fak", None),  # too short to stand for the word
        ("for", None),  # a common word that starts "forged"
        ("man", None),
        ("forg", "fake"),
        ("ai", "fake"),  # AI-generated
        ("synth", "fake"),
        ("gener", "fake"),
        ("gen", None),  # genuine or generated: neither
        ("genu", "real"),
        ("real", "real"),
        (" Real", "real"),
        ("rea", None),
        ("re", None),
        ("realistic", None),  # not a prefix of "real": looking realistic is no verdict
        ("really", None),
        ("authentic", "real"),
        ("", None),
        ("  ", None),
    ],
)
def test_a_token_counts_when_its_text_starts_a_verdict_word(piece: str, label: str | None) -> None:
    assert word_set_of(piece) == label


def decoded_sets(tokenizer: object) -> dict[str, set[int]]:
    """The token sets computed independently: one decode per id, the rule written out again."""
    words = {label: words for label, words in VERDICT_WORDS.items()}
    out: dict[str, set[int]] = {"fake": set(), "real": set()}
    special = set(tokenizer.all_special_ids)  # type: ignore[attr-defined]
    for token_id in range(len(tokenizer)):  # type: ignore[arg-type]
        if token_id in special:
            continue
        text = tokenizer.decode([token_id]).strip().lower()  # type: ignore[attr-defined]
        hits = {
            label
            for label, forms in words.items()
            for w in forms
            if text and w.startswith(text) and (len(text) >= 4 or text == w)
        }
        if len(hits) == 1:
            out[hits.pop()].add(token_id)
    return out


@pytest.mark.parametrize("name", ["llava", "qwen2_vl"])
def test_token_sets_come_from_the_vocabulary(tiny_models: dict[str, Path], name: str) -> None:
    from transformers import AutoProcessor

    tokenizer = AutoProcessor.from_pretrained(tiny_models[name]).tokenizer
    tokens = verdict_token_sets(tokenizer, "hf")
    expected = decoded_sets(tokenizer)
    assert set(tokens.fake) == expected["fake"] and set(tokens.real) == expected["real"]
    for word in (" fake", " real"):  # the words as the tiny corpus spells them are single tokens
        (token_id,) = tokenizer(word, add_special_tokens=False)["input_ids"]
        assert token_id in (tokens.fake if word == " fake" else tokens.real)


def test_a_vocabulary_without_verdict_words_cannot_score() -> None:
    class NoWords:
        all_special_ids: list[int] = []

        def __len__(self) -> int:
            return 3

        def batch_decode(self, ids: list[list[int]], **_: object) -> list[str]:
            return ["cat", "real", "dog"][: len(ids)]

    with pytest.raises(SpotfakeError, match="no token of the vocabulary starts fake"):
        verdict_token_sets(NoWords(), "hf")


def expected_p_fake(path: Path, prompt: str, images: list[Image.Image]) -> float:
    """p(fake) computed without the adapter: full softmax at the next position, masses summed."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    inputs = processor(text=[prompt], images=[images], return_tensors="pt")
    with torch.no_grad():
        probs = torch.softmax(model(**inputs).logits[0, -1].double(), dim=-1)
    sets = decoded_sets(processor.tokenizer)
    fake = float(probs[sorted(sets["fake"])].sum())
    real = float(probs[sorted(sets["real"])].sum())
    return fake / (fake + real)


@pytest.mark.parametrize("name", ["llava", "qwen2_vl"])
def test_score_mode_is_the_fake_mass_over_both_masses(tiny_models: dict[str, Path], name: str) -> None:
    model = HFImageTextModel(path=str(tiny_models[name]), mode="score", batch_size="3")
    batch = items()
    responses = model.predict(batch)
    for item, response in zip(batch, responses, strict=True):
        assert response.error is None and response.score is not None
        prompt = model.prompt_text(item)
        assert response.score == pytest.approx(
            expected_p_fake(tiny_models[name], prompt, item.images), abs=1e-5
        )
        assert response.text == ("fake" if response.score >= 0.5 else "real")
        assert parse_verdict(response.text) == response.text  # the parser agrees with the score
        assert response.usage is None and response.finish_reason is None  # nothing was generated
    settings = model.settings()
    assert "generation" not in settings and settings["mode"] == "score"
    assert settings["score"]["position"] == "first answer token after the chat template"
    assert "Ġfake" in settings["score"]["tokens"]["fake"] and "Ġreal" in settings["score"]["tokens"]["real"]


def test_score_prefix_moves_the_scored_position(tiny_models: dict[str, Path]) -> None:
    path = tiny_models["llava"]
    model = HFImageTextModel(path=str(path), mode="score", score_prefix=" This is a")
    item = items(1)[0]
    (response,) = model.predict([item])
    prompt = model.prompt_text(item) + " This is a"
    assert response.score == pytest.approx(expected_p_fake(path, prompt, item.images), abs=1e-5)
    assert model.settings()["score"]["score_prefix"] == " This is a"


def test_both_mode_gives_the_generated_text_and_the_score(tiny_models: dict[str, Path]) -> None:
    path = str(tiny_models["qwen2_vl"])
    batch = items()
    generated = HFImageTextModel(path=path, max_new_tokens="4", batch_size="2").predict(batch)
    scored = HFImageTextModel(path=path, mode="score", batch_size="2").predict(batch)
    both = HFImageTextModel(path=path, mode="both", max_new_tokens="4", batch_size="2").predict(batch)
    assert [r.text for r in both] == [r.text for r in generated]
    assert [r.score for r in both] == pytest.approx([r.score for r in scored], abs=1e-6)
    assert [r.finish_reason for r in both] == [r.finish_reason for r in generated]


def test_finish_reason_says_whether_the_token_limit_cut_the_answer(tiny_models: dict[str, Path]) -> None:
    model = HFImageTextModel(path=str(tiny_models["llava"]), max_new_tokens="3")
    model.engine.model.generation_config.eos_token_id = -1  # no EOS can come: every answer runs to the limit
    assert {r.finish_reason for r in model.predict(items(3))} == {"length"}
    eos = model.engine.tokenizer.eos_token_id
    model.engine.model.generation_config.eos_token_id = eos
    forced = model.engine.model
    original = forced.generate

    def stop_at_once(*args: object, **kwargs: object) -> torch.Tensor:
        out = original(*args, **kwargs)
        out[:, -1] = eos  # the last new token is an EOS: the answer ended by itself
        return out

    forced.generate = stop_at_once
    try:
        assert {r.finish_reason for r in model.predict(items(3))} == {"stop"}
    finally:
        forced.generate = original


@pytest.mark.parametrize(
    ("name", "template", "tokens"),
    [
        ("Qwen/Qwen2.5-VL-7B-Instruct", "<|im_start|>assistant\n", 256),
        ("EricTanh/Veritas", None, 2048),
        ("moonshotai/Kimi-VL-A3B-Thinking", None, 2048),
        ("So-Fake-R1", None, 2048),
        ("my-model", "{{ '<think>' }}", 2048),
        ("llava-hf/llava-1.5-7b-hf", None, 256),
        ("r1ght-model", None, 256),
    ],
)
def test_the_default_token_budget_follows_the_model_family(
    name: str, template: str | None, tokens: int
) -> None:
    assert default_max_new_tokens(name, template)[0] == tokens


def test_a_reasoning_chat_template_gets_the_reasoning_budget(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    template = tmp_path / "think.jinja"
    template.write_text(LLAVA_CHAT_TEMPLATE + "{% if add_generation_prompt %}<think>{% endif %}")
    model = HFImageTextModel(path=str(tiny_models["llava"]), chat_template=str(template))
    assert model.greedy.max_new_tokens == 2048
    assert model.settings()["max_new_tokens_default"] == "reasoning model: its chat template writes <think>"
    explicit = HFImageTextModel(
        path=str(tiny_models["llava"]), chat_template=str(template), max_new_tokens="7"
    )
    assert explicit.greedy.max_new_tokens == 7 and "max_new_tokens_default" not in explicit.settings()
    plain = HFImageTextModel(path=str(tiny_models["llava"]))
    assert plain.greedy.max_new_tokens == 256 and "max_new_tokens_default" not in plain.settings()


def test_an_unknown_mode_is_one_line() -> None:
    with pytest.raises(SpotfakeError, match="mode='logits': expected one of generate, score, both"):
        HFImageTextModel(path="unused", mode="logits")


def test_spotfake_run_with_score_mode_reports_auc(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    from spotfake.harness.cli import main

    for label in ("real", "fake"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(4):
            image(i + (20 if label == "fake" else 0)).save(tmp_path / "data" / label / f"{i}.png")
    code = main(
        [
            "run",
            "--model",
            "hf",
            "--model-args",
            f"path={tiny_models['qwen2_vl']},mode=score,batch_size=4",
            "--task",
            "imagefolder",
            "--data-root",
            str(tmp_path / "data"),
            "--output-dir",
            str(tmp_path / "runs"),
            "--bootstrap",
            "10",
            "--quiet",
        ]
    )
    assert code == 0
    (folder,) = (tmp_path / "runs").glob("hf@*/imagefolder")
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 8 and all(0.0 <= r["score"] <= 1.0 for r in records)
    assert all(r["verdict"] == r["response"] for r in records)
    results = json.loads((folder / "results.json").read_text())
    for metric in ("auc", "ap", "eer", "brier"):
        assert isinstance(results["metrics"][metric], float), metric
    from sklearn.metrics import roc_auc_score

    truth = [1 if r["label"] == "fake" else 0 for r in records]
    assert sum(truth) == 4
    assert results["metrics"]["auc"] == pytest.approx(roc_auc_score(truth, [r["score"] for r in records]))
