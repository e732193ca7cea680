"""FakeVLM adapter: the published protocol (raw prompt, greedy, 256 new tokens), batching, scoring, errors.

A tiny random LLaVA with an in-memory BPE tokenizer is built once per session and loaded from its folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava
from PIL import Image

from spotfake.adapters.fakevlm.adapter import PROMPT, SCORE_CONTEXT, FakeVLM, continuation_token
from spotfake.adapters.fakevlm.prompts import FORMAT_FILE
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, build_model
from spotfake.harness.types import Sample

IMAGE_SIZE, PATCH = 32, 8


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return build_tiny_llava(
        tmp_path_factory.mktemp("fakevlm") / "tiny-fakevlm", image_size=IMAGE_SIZE, patch_size=PATCH
    )


@pytest.fixture(scope="session")
def generator_model(tiny_llava: Path) -> FakeVLM:
    return FakeVLM(path=str(tiny_llava), batch_size="4", max_new_tokens="8")


def image(seed: int, size: tuple[int, int] = (40, 52)) -> Image.Image:
    pixels = np.random.RandomState(seed).randint(0, 256, (*size, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def items(n: int, prompt: str = "Does the image looks real/fake?") -> list[Item]:
    return [
        Item(Sample(id=f"s{i}", label="fake", prompt=prompt + " detail" * (i % 3)), [image(i)])
        for i in range(n)
    ]


def spy_generate(monkeypatch: pytest.MonkeyPatch, model: Any) -> list[dict[str, Any]]:
    """Record the keyword arguments of every ``model.generate`` call (the real method still runs)."""
    calls: list[dict[str, Any]] = []
    original = model.generate

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "generate", recording)
    return calls


def test_published_prompt_and_decoding_are_pinned(tiny_llava: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert PROMPT == "<image>Does the image looks real/fake?"
    model = FakeVLM(path=str(tiny_llava))  # defaults = the published protocol
    settings = model.settings()
    assert settings["prompt"] == PROMPT
    assert settings["chat_template"] is None
    assert settings["generation"] == {"do_sample": False, "num_beams": 1, "max_new_tokens": 256}
    assert settings["dtype"] == "float32"  # CPU here; bf16 is the GPU default
    assert settings["mode"] == "generate"

    calls = spy_generate(monkeypatch, model.engine.model)
    responses = model.predict(items(2))
    assert all(r.error is None and isinstance(r.text, str) for r in responses)
    (call,) = calls
    config = call["generation_config"]
    assert (config.do_sample, config.num_beams, config.max_new_tokens) == (False, 1, 256)
    tokenizer = model.engine.tokenizer
    n_image_tokens = (IMAGE_SIZE // PATCH) ** 2
    expected = tokenizer.bos_token + "<image>" * n_image_tokens + "Does the image looks real/fake?"
    # the raw prompt, no chat template, and no padding to a fixed length (both rows share one length)
    assert call["input_ids"].shape[1] == len(tokenizer(PROMPT)["input_ids"]) + n_image_tokens - 1
    for row in call["input_ids"]:
        assert tokenizer.decode(row, skip_special_tokens=False) == expected
    assert call["pixel_values"].dtype == torch.float32


def test_answers_match_a_direct_transformers_call(tiny_llava: Path, generator_model: FakeVLM) -> None:
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    processor = AutoProcessor.from_pretrained(tiny_llava)
    reference = LlavaForConditionalGeneration.from_pretrained(tiny_llava).eval()
    inputs = processor(images=[image(0)], text=[PROMPT], return_tensors="pt")
    out = reference.generate(**inputs, max_new_tokens=8, do_sample=False)
    expected = processor.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    (response,) = generator_model.predict(items(1))
    assert response.text == expected
    assert response.usage == {"prompt_tokens": inputs["input_ids"].shape[1], "completion_tokens": 8}


def test_left_padded_batches_answer_as_single_samples(tiny_llava: Path) -> None:
    batch = items(5, prompt="Is this photo real or fake?")  # prompts of three lengths -> padding
    one = FakeVLM(path=str(tiny_llava), batch_size="1", max_new_tokens="6", prompt_source="sample")
    many = FakeVLM(path=str(tiny_llava), batch_size="5", max_new_tokens="6", prompt_source="sample")
    assert [r.text for r in many.predict(batch)] == [r.text for r in one.predict(batch)]
    assert many.settings()["prompt"] != PROMPT


def test_score_mode_is_the_softmax_of_real_and_fake_after_this_is_a(tiny_llava: Path) -> None:
    model = FakeVLM(path=str(tiny_llava), mode="score", batch_size="3")
    responses = model.predict(items(3))
    processor = model.engine.processor
    tokenizer = model.engine.tokenizer
    real_id = tokenizer.convert_tokens_to_ids("Ġreal")
    fake_id = tokenizer.convert_tokens_to_ids("Ġfake")
    assert model.settings()["score"]["tokens"] == {"real": "Ġreal", "fake": "Ġfake"}
    for i, response in enumerate(responses):
        inputs = processor(images=[image(i)], text=[PROMPT + SCORE_CONTEXT], return_tensors="pt")
        with torch.no_grad():
            logits = model.engine.model(**inputs).logits[0, -1]
        expected = torch.softmax(logits[[real_id, fake_id]], dim=-1)[1].item()
        assert response.score == pytest.approx(expected, abs=1e-5)
        verdict = "fake" if expected >= 0.5 else "real"
        assert response.text == f"This is a {verdict} image."
        assert response.error is None


def test_both_mode_gives_the_generated_text_and_the_score(tiny_llava: Path, generator_model: FakeVLM) -> None:
    both = FakeVLM(path=str(tiny_llava), mode="both", batch_size="4", max_new_tokens="8")
    scored = FakeVLM(path=str(tiny_llava), mode="score", batch_size="4")
    batch = items(3)
    got = both.predict(batch)
    assert [r.text for r in got] == [r.text for r in generator_model.predict(batch)]
    assert [r.score for r in got] == pytest.approx([r.score for r in scored.predict(batch)], abs=1e-6)


def test_continuation_token_handles_sentencepiece_and_byte_level_spaces() -> None:
    from fixtures.tiny_models import DEFAULT_CORPUS
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    spm = Tokenizer(models.BPE(unk_token="<unk>"))
    spm.pre_tokenizer = pre_tokenizers.Metaspace()
    spm.train_from_iterator(
        DEFAULT_CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>"], show_progress=False)
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=spm, unk_token="<unk>")
    token = continuation_token(tokenizer, "real/fake?" + SCORE_CONTEXT, " fake")
    assert tokenizer.convert_ids_to_tokens(token) == "▁fake"


def test_a_sample_with_two_images_fails_alone(generator_model: FakeVLM) -> None:
    batch = items(3)
    batch[1] = Item(Sample(id="pair", label="real", prompt="x"), [image(1), image(2)])
    responses = generator_model.predict(batch)
    assert responses[1].error is not None and "pair" in responses[1].error and responses[1].text is None
    assert responses[0].error is None and responses[2].error is None


def test_an_out_of_memory_batch_is_halved_and_retried(
    tiny_llava: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = FakeVLM(path=str(tiny_llava), batch_size="8", max_new_tokens="4")
    reference = [
        r.text for r in FakeVLM(path=str(tiny_llava), batch_size="1", max_new_tokens="4").predict(items(6))
    ]
    original = model.engine.model.generate
    sizes: list[int] = []

    def limited(*args: Any, **kwargs: Any) -> Any:
        sizes.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(*args, **kwargs)

    monkeypatch.setattr(model.engine.model, "generate", limited)
    assert [r.text for r in model.predict(items(6))] == reference
    assert sizes == [6, 3, 3]
    assert model.batcher.current == 3
    assert model.settings()["batch_size"] == 8  # the configured size; the fingerprint does not drift


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"mode": "vote"}, "mode='vote'"),
        ({"batch_size": "zero"}, "batch_size='zero'"),
        ({"batch_size": "0"}, "at least 1"),
        ({"dtype": "int3"}, "dtype='int3'"),
        ({"device": "tpu"}, "device='tpu'"),
        ({"prompt": "mine"}, "prompt='mine'"),
        ({"prompt_format": "jinja"}, "prompt_format='jinja'"),
        ({"prompt_format": "chat"}, "no chat template; use the raw prompt format"),
    ],
)
def test_bad_model_args_are_one_clear_line(tiny_llava: Path, args: dict[str, str], message: str) -> None:
    with pytest.raises(SpotfakeError, match=message.replace("(", r"\(")) as info:
        FakeVLM(path=str(tiny_llava), **args)
    assert "\n" not in str(info.value)


def test_an_unknown_hub_id_offline_is_one_clear_line() -> None:
    with pytest.raises(SpotfakeError, match="'nobody/no-such-fakevlm'.*hub ids need a connection") as info:
        FakeVLM(path="nobody/no-such-fakevlm")
    assert "\n" not in str(info.value)


def test_an_older_checkpoint_without_llava_processor_fields_loads(
    tiny_llava: Path, generator_model: FakeVLM, tmp_path: Path
) -> None:
    old = tmp_path / "old-style"
    shutil.copytree(tiny_llava, old)
    config = json.loads((old / "processor_config.json").read_text())
    for key in ("patch_size", "vision_feature_select_strategy", "num_additional_image_tokens"):
        config.pop(key)
    (old / "processor_config.json").write_text(json.dumps(config))
    model = FakeVLM(path=str(old), batch_size="4", max_new_tokens="8")
    assert sorted(model.filled_processor_fields) == [
        "num_additional_image_tokens",
        "patch_size",
        "vision_feature_select_strategy",
    ]
    assert [r.text for r in model.predict(items(2))] == [r.text for r in generator_model.predict(items(2))]


def test_a_checkpoint_without_processor_takes_one_from_elsewhere(
    tiny_llava: Path, generator_model: FakeVLM, tmp_path: Path
) -> None:
    bare = tmp_path / "weights-only"
    bare.mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copy(tiny_llava / name, bare / name)
    with pytest.raises(SpotfakeError, match="processor=<folder or hub id of its base model>"):
        FakeVLM(path=str(bare))
    model = FakeVLM(path=str(bare), processor=str(tiny_llava), batch_size="4", max_new_tokens="8")
    assert model.settings()["processor"] == tiny_llava.name
    assert model.weights_hash() == generator_model.weights_hash()
    assert [r.text for r in model.predict(items(2))] == [r.text for r in generator_model.predict(items(2))]


def test_a_missing_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(SpotfakeError, match="model folder not found") as info:
        build_model("fakevlm", {"path": str(missing)})
    assert str(missing) in str(info.value)


def test_runs_end_to_end_through_spotfake_run(
    tiny_llava: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spotfake.harness.cli import main

    for label in ("real", "fake"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(3):
            image(i + (10 if label == "fake" else 0)).save(tmp_path / "data" / label / f"{i}.png")
    argv = [
        "run",
        "--model",
        "fakevlm",
        "--model-args",
        f"path={tiny_llava},mode=score,batch_size=4",
        "--task",
        "imagefolder",
        "--data-root",
        str(tmp_path / "data"),
        "--output-dir",
        str(tmp_path / "runs"),
        "--bootstrap",
        "20",
        "--quiet",
    ]
    assert main(argv) == 0
    (folder,) = (tmp_path / "runs").glob("*/imagefolder")
    results = json.loads((folder / "results.json").read_text())
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 6
    assert all(r["verdict"] in ("real", "fake") and 0.0 <= r["score"] <= 1.0 for r in records)
    assert results["metrics"]["unparsed_rate"] == 0
    assert 0.0 <= results["metrics"]["auc"] <= 1.0
    assert results["model"]["settings"]["prompt"] == PROMPT
    # a second identical run reuses every record
    first = (folder / "samples.jsonl").read_text()
    assert main(argv) == 0
    capsys.readouterr()
    assert (folder / "samples.jsonl").read_text() == first


def fed_prompts(monkeypatch: pytest.MonkeyPatch, model: FakeVLM) -> list[str]:
    """Record the prompt texts the adapter hands to the processor (the real encoding still runs)."""
    seen: list[str] = []
    encode = model.engine.encode_isolating

    def recording(texts: list[str], *args: Any) -> Any:
        seen.extend(texts)
        return encode(texts, *args)

    monkeypatch.setattr(model.engine, "encode_isolating", recording)
    return seen


def test_a_task_that_asks_per_sample_gets_its_own_question_unless_published(
    tiny_llava: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = [
        Item(Sample(id=f"q{i}", label="fake", prompt="x", question=question), [image(i)])
        for i, question in enumerate(
            ["Does the person's nose look real/fake?", "<image>Do the eyes look real?"]
        )
    ]
    whole = items(1, prompt="Is this photo real or fake?")
    model = FakeVLM(path=str(tiny_llava), batch_size="4", max_new_tokens="2")
    seen = fed_prompts(monkeypatch, model)
    model.predict(own + whole)
    assert seen == ["<image>Does the person's nose look real/fake?", "<image>Do the eyes look real?", PROMPT]
    assert model.settings()["prompt"] == PROMPT and "question" not in model.settings()

    published = FakeVLM(path=str(tiny_llava), batch_size="4", max_new_tokens="2", prompt="published")
    seen = fed_prompts(monkeypatch, published)
    published.predict(own)
    assert seen == [PROMPT, PROMPT]
    # Recorded, so a published-prompt run never shares a run key with the default one.
    assert published.settings()["question"].startswith("published")
    assert published.fingerprint() != model.fingerprint()


@pytest.fixture(scope="session")
def chat_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LLaVA with a chat template that says it was trained in the chat format."""
    folder = build_tiny_llava(
        tmp_path_factory.mktemp("fakevlm-chat") / "tiny", image_size=IMAGE_SIZE, patch_size=PATCH,
        chat_template=LLAVA_CHAT_TEMPLATE,
    )  # fmt: skip
    (folder / FORMAT_FILE).write_text(json.dumps({"prompt_format": "chat"}))
    return folder


def test_a_checkpoint_trained_in_chat_is_asked_in_chat(
    chat_llava: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = FakeVLM(path=str(chat_llava), mode="both", batch_size="4", max_new_tokens="2")
    processor = model.engine.processor
    chat = processor.apply_chat_template(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Does the image looks real/fake?"}, {"type": "image"}],
            }
        ],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert chat == "USER: Does the image looks real/fake?<image>\nASSISTANT:"
    seen = fed_prompts(monkeypatch, model)
    responses = model.predict(items(2))
    assert all(r.error is None and r.score is not None for r in responses)
    assert seen == [chat, chat, chat + SCORE_CONTEXT, chat + SCORE_CONTEXT]  # generate, then score
    settings = model.settings()
    assert settings["prompt"] == chat and settings["score"]["context"] == chat + SCORE_CONTEXT
    assert isinstance(settings["chat_template"], str) and len(settings["chat_template"]) == 16
    # The recorded format can be overridden; a folder without the record is evaluated raw.
    raw = FakeVLM(path=str(chat_llava), prompt_format="raw", max_new_tokens="2")
    assert raw.settings()["prompt"] == PROMPT and raw.settings()["chat_template"] is None
    assert raw.fingerprint() != model.fingerprint()


def test_an_unreadable_format_record_is_one_clear_line(chat_llava: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(chat_llava, folder)
    (folder / FORMAT_FILE).write_text(json.dumps({"prompt_format": "jinja"}))
    with pytest.raises(SpotfakeError, match="prompt_format 'jinja'; expected chat or raw"):
        FakeVLM(path=str(folder))
