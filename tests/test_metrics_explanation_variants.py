"""Explanation metrics as papers compute them, each under its own name: every value against an independent
computation (nltk's corpus_bleu and sentence_bleu, pycocoevalcap's Cider, CLIP text features computed one
text at a time), their labels and recorded recipes, and the opt-in group that leaves task lists alone."""

from __future__ import annotations

import json
import math
import random
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import TOY_TASK
from nltk.translate.bleu_score import corpus_bleu, sentence_bleu

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics import score_records, summarize
from spotfake.harness.metrics.bleu import bleu_n, bleu_stats, bleu_tokens
from spotfake.harness.metrics.cider import cider_d
from spotfake.harness.metrics.css_clip import ClipTextScorer
from spotfake.harness.metrics.explanation_variants import GROUP_MEMBERS, VARIANTS, sentence_bleu1
from spotfake.harness.metrics.registry import metric_def, metric_group, metric_label
from spotfake.harness.registry import TASKS
from spotfake.harness.task import load_task
from spotfake.harness.types import Record

WORDS = ["the", "face", "skin", "eyes", "nose", "mouth", "looks", "blurry", "smooth", "natural", "real"]
WORDS += ["fake", "edges", "lighting", "is", "not", "and"]


def sentence(rng: random.Random, low: int = 3, high: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))) + rng.choice([".", "!", ""])


def edited(rng: random.Random, text: str) -> str:
    """``text`` with about a third of its words replaced: n-grams of every order survive."""
    return " ".join(rng.choice(WORDS) if rng.random() < 0.3 else w for w in text.split())


def corpus(rng: random.Random, n: int = 30, low: int = 3) -> tuple[list[str], list[list[str]]]:
    refs = [[sentence(rng, low) for _ in range(rng.randint(1, 3))] for _ in range(n)]
    hyps = [edited(rng, rs[0]) if k % 2 else sentence(rng, low) for k, rs in enumerate(refs)]
    return hyps, refs


def scored(hyps: list[str | None], refs: list[list[str]], metrics: list[str]) -> dict[str, float | None]:
    records = [
        Record(id=str(i), label="fake", response=h, verdict="fake", error=None if h is not None else "failed")
        for i, h in enumerate(hyps)
    ]
    score_records(records, {str(i): r for i, r in enumerate(refs)}, answer_kind="verdict", metrics=metrics)
    return summarize(records, answer_kind="verdict", metrics=metrics, n_bootstrap=0).metrics


@pytest.mark.parametrize("seed", range(8))
def test_bleu_n_and_their_mean_equal_nltk_corpus_bleu(seed: int) -> None:
    hyps, refs = corpus(random.Random(seed))
    tokens_h = [bleu_tokens(h) for h in hyps]
    tokens_r = [[bleu_tokens(r) for r in rs] for rs in refs]
    nltk = [corpus_bleu(tokens_r, tokens_h, weights=(1 / n,) * n) for n in range(1, 5)]
    values = scored(list(hyps), refs, ["bleu1", "bleu4"])
    assert values["bleu1"] == pytest.approx(nltk[0], abs=1e-12)
    assert values["bleu4"] == pytest.approx(nltk[3], abs=1e-12)
    sums = np.sum([bleu_stats(h, rs) for h, rs in zip(hyps, refs, strict=True)], axis=0)
    for n in (2, 3):
        assert float(bleu_n(sums, n)) == pytest.approx(nltk[n - 1], abs=1e-12)
    assert len({round(v, 9) for v in nltk}) == 4  # the four orders differ


def test_bleu_mean14_equals_pycocoevalcaps_bleu_mean_as_m2f2_det_calls_it() -> None:
    from pycocoevalcap.bleu.bleu import Bleu

    for seed in range(6):
        hyps, refs = corpus(random.Random(11 + seed), n=40)
        hyps[0], hyps[1], hyps[2] = "", "Fake.", "the Nose looks, blurry"  # empty, short, case and commas
        # M2F2-Det's eval_explanation.py: raw texts, Bleu(4), the mean of its four values
        coco, _ = Bleu(4).compute_score(
            dict(enumerate(refs)), {i: [h] for i, h in enumerate(hyps)}, verbose=0
        )
        values = scored(list(hyps), refs, ["bleu_mean14", "bleu4"])
        assert values["bleu_mean14"] == pytest.approx(float(np.mean(coco)), abs=1e-12)
        assert values["bleu_mean14"] != pytest.approx(values["bleu4"], abs=1e-3)


def test_bleu1_sentence_is_fakereasonings_mean_of_nltk_sentence_bleu() -> None:
    rng = random.Random(3)
    hyps, refs = corpus(rng, n=25)
    hyps[0] = "The nose, looks Blurry"  # case and punctuation stay in whitespace tokens
    with warnings.catch_warnings():  # nltk warns about the higher orders, whose weight is 0
        warnings.simplefilter("ignore")
        expected = [
            sentence_bleu([r.split() for r in rs], h.split(), weights=(1, 0, 0, 0))
            for h, rs in zip(hyps, refs, strict=True)
        ]
    values = scored([*hyps, None], [*refs, ["a reference"]], ["bleu1_sentence"])
    assert values["bleu1_sentence"] == pytest.approx(sum(expected) / 26, abs=1e-12)  # the failed one is 0


def test_sentence_bleu1_by_hand() -> None:
    # unigram matches clipped: "the" twice in the response, once in the reference -> 3 of 4 match;
    # response 4 words, closest reference 6 words (the other is 3 away): brevity penalty exp(1 - 6/4)
    value = sentence_bleu1("the the nose blurry", ["the nose is very blurry indeed", "a"])
    assert value == pytest.approx(3 / 4 * math.exp(1 - 6 / 4), abs=1e-12)
    assert sentence_bleu1("", ["anything"]) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_cider_equals_pycocoevalcaps_cider_per_sample(seed: int) -> None:
    from pycocoevalcap.cider.cider import Cider

    rng = random.Random(100 + seed)
    hyps, refs = corpus(rng, n=20 + seed)
    hyps[1] = ""  # an empty answer
    hyps[2] = "eyes"  # one word: no bigram
    hyps[3] = refs[3][0]  # a copy of a reference
    hyps[4] = "The EYES, look blurry."  # case and punctuation kept, as pycocoevalcap splits
    mean, per_sample = Cider().compute_score(dict(enumerate(refs)), {i: [h] for i, h in enumerate(hyps)})
    ours = cider_d(hyps, refs)
    assert ours == pytest.approx(list(per_sample), abs=1e-10)
    assert scored(list(hyps), refs, ["cider"])["cider"] == pytest.approx(float(mean), abs=1e-10)


def test_cider_by_hand() -> None:
    # two samples with disjoint words: every n-gram has df 1, idf log 2; a copy of its reference has
    # cosine 1 at each order and no length penalty: 10; a response sharing nothing scores 0
    assert cider_d(["a b c d", "x y"], [["a b c d"], ["p q"]]) == pytest.approx([10.0, 0.0])
    # one sample: idf = log 1 - log 1 = 0, every weight 0 (pycocoevalcap's quirk): 0
    assert cider_d(["a b c"], [["a b c"]]) == [0.0]
    # every weight log 2 again; against "a b": unigram cosine 2 / sqrt(4 * 2), bigram 1 / sqrt(3), no
    # reference trigram or 4-gram (0); bigram counts 3 and 1 differ by 2: penalty exp(-4 / 72); against
    # "q": nothing shared (0); the mean over the two references, times 10
    (value,) = cider_d(["a b c d", "z"], [["a b", "q"], ["y"]])[:1]
    first = (2 / math.sqrt(4 * 2) + 1 / math.sqrt(3)) / 4 * math.exp(-4 / 72)
    assert value == pytest.approx(10 * (first + 0.0) / 2, abs=1e-12)


def build_tiny_clip(folder: Path, full_model: bool) -> Path:
    """A random CLIP (text tower only, or the whole model) with a byte-level tokenizer, saved locally."""
    import torch
    from transformers import (
        CLIPConfig,
        CLIPModel,
        CLIPTextConfig,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
        CLIPVisionConfig,
    )
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    folder.mkdir(parents=True)
    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    merges = [("t", "h"), ("th", "e</w>"), ("f", "a"), ("fa", "k"), ("fak", "e</w>")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    tokenizer = CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
    tokenizer.model_max_length = 77
    tokenizer.save_pretrained(folder)
    text = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=16,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    torch.manual_seed(0)
    if full_model:
        vision = CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=48,
            num_hidden_layers=1,
            num_attention_heads=4,
            image_size=32,
            patch_size=16,
            projection_dim=16,
        )
        config = CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=16)
        CLIPModel(config).save_pretrained(folder)
    else:
        CLIPTextModelWithProjection(text).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip", full_model=True)


def fakereasoning_similarity(folder: Path, output: str, gt: str) -> float:
    """FakeReasoning's ``similarity()``: one text at a time through CLIPModel.get_text_features."""
    import torch
    from transformers import CLIPModel, CLIPTokenizer

    model, tokenizer = (
        CLIPModel.from_pretrained(str(folder)).eval(),
        CLIPTokenizer.from_pretrained(str(folder)),
    )
    with torch.no_grad():
        a = model.get_text_features(**tokenizer([output], return_tensors="pt", padding=True, truncation=True))
        b = model.get_text_features(**tokenizer([gt], return_tensors="pt", padding=True, truncation=True))
    a = a.pooler_output if hasattr(a, "pooler_output") else a
    b = b.pooler_output if hasattr(b, "pooler_output") else b
    a, b = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    return float((a @ b.T).item())


def test_css_clip77_equals_clip_text_features_one_text_at_a_time(tiny_clip: Path, tmp_path: Path) -> None:
    rng = random.Random(5)
    hyps = [sentence(rng) for _ in range(6)] + ["the fake " * 60]  # the last one runs past 77 tokens
    refs = [[sentence(rng)] for _ in range(7)]
    refs[2].append(hyps[2])  # max over references: a copy scores 1
    scorer = ClipTextScorer(tiny_clip, tmp_path / "cache", device="cpu", batch_size=3)
    ours = scorer.score(hyps, refs)
    for h, rs, value in zip(hyps, refs, ours, strict=True):
        assert value == pytest.approx(max(fakereasoning_similarity(tiny_clip, h, r) for r in rs), abs=1e-5)
    assert ours[2] == pytest.approx(1.0, abs=1e-6)
    longer = scorer.score(["the fake " * 90], [refs[6]])  # words past the 77th token are not seen
    assert longer[0] == pytest.approx(ours[6], abs=1e-6)
    assert scorer.embedder_id.startswith("tiny-clip:clip-text-77tok@")


def test_css_clip77_loads_a_text_only_folder_too(tmp_path: Path) -> None:
    folder = build_tiny_clip(tmp_path / "text-only", full_model=False)
    (value,) = ClipTextScorer(folder, tmp_path / "cache", device="cpu").score(["the fake"], [["the fake"]])
    assert value == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(SpotfakeError, match="CLIP folder not found"):
        ClipTextScorer(tmp_path / "missing")


def test_labels_name_the_variant_and_the_group_leaves_every_tasks_list_alone() -> None:
    labels = {name: metric_label(name) for name in ("css", "css_gated", *GROUP_MEMBERS, "rouge_l")}
    assert labels["css"] == "CSS (MiniLM)" and labels["css_clip77"] == "CSS (CLIP-77)"
    assert labels["bleu_mean14"] == "BLEU-1..4 mean" and labels["cider"] == "CIDEr-D"
    assert len(set(labels.values())) == len(labels)  # no two variants share a column label
    assert all(metric_def(n).needs == "references" for n in GROUP_MEMBERS)
    group = metric_group("explanation_variants")
    assert group is not None and group.metrics == GROUP_MEMBERS
    explanation = metric_group("explanation")
    assert explanation is not None and not set(GROUP_MEMBERS) & set(explanation.metrics)
    new = set(GROUP_MEMBERS) - {"bleu4"}
    for name in TASKS.names():
        assert not new & set(TASKS.get(name).metrics), name


def test_spotfake_score_records_each_variant_and_its_embedder(
    tiny_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    from spotfake.harness.cli import main

    task = load_task(str(TOY_TASK))
    rng = random.Random(9)
    texts = {s.id: f"This is a {rng.choice(['fake', 'real'])} image. {sentence(rng)}" for s in task.samples}
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": k, "response": v}) + "\n" for k, v in texts.items()))
    argv = ["score", "--task", str(TOY_TASK), "--predictions", str(preds), "--bootstrap", "0"]
    argv += ["--output-dir", str(tmp_path / "out"), "--metrics", "+explanation_variants"]
    assert main(argv) == 2  # css_clip77 without its encoder: one line
    assert "css_clip77 needs the CLIP text encoder: pass --css-clip-model DIR" in capsys.readouterr().err
    assert main([*argv, "--css-clip-model", str(tiny_clip)]) == 0, capsys.readouterr().err
    (results_file,) = (tmp_path / "out").rglob("results.json")
    results = json.loads(results_file.read_text())
    metrics, scoring = results["metrics"], results["scoring"]
    assert set(scoring["metric_variants"]) == set(GROUP_MEMBERS)
    assert scoring["metric_variants"]["cider"] == VARIANTS["cider"]
    assert scoring["css_clip77_embedder"].startswith("tiny-clip:clip-text-77tok@")
    refs = {s.id: list(s.references) for s in task.samples}
    res = {k: [v] for k, v in texts.items()}
    assert metrics["cider"] == pytest.approx(float(Cider().compute_score(refs, res)[0]), abs=1e-10)
    coco, _ = Bleu(4).compute_score(refs, res, verbose=0)
    assert metrics["bleu_mean14"] == pytest.approx(float(np.mean(coco)), abs=1e-12)
    hyps = [bleu_tokens(texts[k]) for k in texts]
    assert metrics["bleu1"] == pytest.approx(
        corpus_bleu([[bleu_tokens(r) for r in refs[k]] for k in texts], hyps, weights=(1,)), abs=1e-12
    )
    clip = [fakereasoning_similarity(tiny_clip, texts[k], refs[k][0]) for k in texts]
    assert metrics["css_clip77"] == pytest.approx(sum(clip) / len(clip), abs=1e-5)
    records = [json.loads(x) for x in (results_file.parent / "samples.jsonl").read_text().splitlines()]
    assert all(
        {"cider", "css_clip77", "bleu1_sentence", "coco_bleu_stats"} <= set(r["fields"]) for r in records
    )
    assert Counter(type(r["fields"]["cider"]) for r in records) == Counter({float: len(records)})


def test_run_refuses_css_clip77_without_its_encoder_before_any_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spotfake.harness.cli import main

    argv = ["run", "--model", "no-such-model", "--task", str(TOY_TASK), "--output-dir", str(tmp_path)]
    assert main([*argv, "--metrics", "+css_clip77", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "css_clip77 needs the CLIP text encoder" in err and "no-such-model" not in err
