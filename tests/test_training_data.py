"""Training examples come from a task's samples: the prompt matches evaluation, the loss sees only the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from fixtures.shared import SharedData
from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava
from fixtures.training.fakeclue import CORPUS, PROMPT, write_fakeclue
from PIL import Image

from spotfake.adapters.fakevlm.adapter import PROMPT as ADAPTER_PROMPT
from spotfake.adapters.fakevlm.adapter import SCORE_CONTEXT, continuation_token
from spotfake.adapters.fakevlm.data import (
    IGNORE_INDEX,
    ConversationDataset,
    PaddingCollator,
    answer_ids,
    encode_example,
)
from spotfake.adapters.fakevlm.prompts import PUBLISHED_QUESTION, format_prompt, question_for, raw_prompt
from spotfake.adapters.fakevlm.train_data import base_corpus, task_conversations, with_prompts
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import LoadedTask, TaskSpec, load_task
from spotfake.harness.types import Sample


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory):
    from transformers import AutoProcessor

    folder = build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"), corpus=CORPUS)
    return AutoProcessor.from_pretrained(folder)


@pytest.fixture(scope="module")
def chat_processor(tmp_path_factory: pytest.TempPathFactory):
    from transformers import AutoProcessor

    folder = build_tiny_llava(
        tmp_path_factory.mktemp("tiny-chat"), corpus=CORPUS, chat_template=LLAVA_CHAT_TEMPLATE
    )
    return AutoProcessor.from_pretrained(folder)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fakeclue(tmp_path_factory.mktemp("fakeclue"), n=6)


def fakeclue_examples(data_root: Path, processor, prompt_format: str = "raw"):
    task = load_task("fakeclue", data_root, {"split": "train"})
    return with_prompts(task_conversations(task), prompt_format, processor)


def test_the_raw_prompt_is_the_adapters_published_prompt() -> None:
    assert raw_prompt(PUBLISHED_QUESTION) == raw_prompt(PROMPT) == ADAPTER_PROMPT
    assert ADAPTER_PROMPT == "<image>Does the image looks real/fake?"
    assert raw_prompt("<image>\nIs this photo real?") == "<image>Is this photo real?"


def test_the_question_is_the_samples_own_only_when_the_task_gives_one() -> None:
    whole = Sample(id="a", label="fake", prompt="Is this image real or fake?")
    own = Sample(id="b", label="fake", prompt="x", question="<image>Does the person's nose look real/fake?")
    assert question_for(whole) == PUBLISHED_QUESTION
    assert question_for(own) == "Does the person's nose look real/fake?"
    assert question_for(own, "published") == PUBLISHED_QUESTION
    assert question_for(whole, "sample") == "Is this image real or fake?"


def test_fakeclue_samples_become_one_example_each_in_file_order(data_root: Path, processor) -> None:
    examples = fakeclue_examples(data_root, processor)
    records = json.loads((data_root / "data_json" / "train.json").read_text())
    assert [e.id for e in examples] == [r["image"] for r in records]
    assert [e.answer for e in examples] == [r["conversations"][1]["value"] for r in records]
    assert {e.prompt for e in examples} == {ADAPTER_PROMPT}
    assert examples[0].image == data_root / "train" / records[0]["image"]
    assert examples[0].label == "fake" and examples[1].label == "real"
    # A from-scratch tokenizer learns the raw prompts and the answers as they follow the prompt.
    corpus = base_corpus(task_conversations(load_task("fakeclue", data_root, {"split": "train"})))
    assert corpus[0] == ADAPTER_PROMPT and corpus[-1] == " " + records[-1]["conversations"][1]["value"]


def test_only_answer_tokens_and_eos_carry_labels(processor, data_root: Path) -> None:
    dataset = ConversationDataset(fakeclue_examples(data_root, processor), processor, max_length=1024)
    conv = dataset.conversations[0]
    example = dataset[0]
    with Image.open(conv.image) as img:
        expected_prompt = processor(images=img.convert("RGB"), text=ADAPTER_PROMPT, return_tensors="pt")
    prompt_ids = expected_prompt["input_ids"][0]
    n_prompt = len(prompt_ids)
    # The input starts with exactly what the adapter feeds at evaluation (BOS, image positions, question).
    assert torch.equal(example["input_ids"][:n_prompt], prompt_ids)
    assert torch.equal(example["pixel_values"], expected_prompt["pixel_values"][0])
    labels = example["labels"]
    assert len(labels) == len(example["input_ids"])
    assert (labels[:n_prompt] == IGNORE_INDEX).all()
    assert (labels[n_prompt:] != IGNORE_INDEX).all()
    assert torch.equal(labels[n_prompt:], example["input_ids"][n_prompt:])
    tokenizer = processor.tokenizer
    assert labels[-1].item() == tokenizer.eos_token_id
    assert tokenizer.decode(labels[n_prompt:-1]).strip() == conv.answer
    image_id = processor.tokenizer.convert_tokens_to_ids("<image>")
    assert (labels != image_id).all()


def test_chat_examples_wrap_the_question_in_the_bases_template(chat_processor, data_root: Path) -> None:
    examples = fakeclue_examples(data_root, chat_processor, "chat")
    expected = chat_processor.apply_chat_template(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": PUBLISHED_QUESTION}, {"type": "image"}],
            }
        ],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert {e.prompt for e in examples} == {expected}
    assert expected.startswith("USER: Does the image looks real/fake?<image>") and expected.endswith(
        "ASSISTANT:"
    )
    assert format_prompt(PUBLISHED_QUESTION, "chat", chat_processor) == expected
    example = ConversationDataset(examples, chat_processor)[0]
    n_prompt = int((example["labels"] == IGNORE_INDEX).sum())
    decoded = chat_processor.tokenizer.decode(example["input_ids"][:n_prompt])
    assert "USER:" in decoded and decoded.rstrip().endswith("ASSISTANT:")
    answer = chat_processor.tokenizer.decode(example["labels"][n_prompt:-1])
    assert answer.strip() == examples[0].answer


def test_chat_format_needs_a_chat_template(processor, data_root: Path) -> None:
    from spotfake.adapters.fakevlm.prompts import check_format

    with pytest.raises(SpotfakeError, match="no chat template; use the raw prompt format"):
        check_format("chat", processor, where="--base tiny")
    check_format("raw", processor, where="--base tiny")


def test_answer_tokens_match_the_adapters_score_context(processor) -> None:
    tokenizer = processor.tokenizer
    ids = answer_ids(tokenizer, ADAPTER_PROMPT, "This is a fake image. Grid pattern.")
    opening = tokenizer(ADAPTER_PROMPT + SCORE_CONTEXT, add_special_tokens=False)["input_ids"]
    context = tokenizer(ADAPTER_PROMPT, add_special_tokens=False)["input_ids"]
    n_open = len(opening) - len(context)
    # What the adapter's score mode reads after "<prompt> This is a" is exactly what training taught.
    assert ids[:n_open] == opening[len(context) :]
    assert ids[n_open] == continuation_token(tokenizer, ADAPTER_PROMPT + SCORE_CONTEXT, " fake")


def test_truncation_cuts_the_answer_never_the_image(processor, data_root: Path) -> None:
    conv = fakeclue_examples(data_root, processor)[0]
    with Image.open(conv.image) as img:
        image = img.convert("RGB")
    full = encode_example(processor, image, ADAPTER_PROMPT, conv.answer, 1024)
    n_prompt = int((full["labels"] == IGNORE_INDEX).sum())
    cut = encode_example(processor, image, ADAPTER_PROMPT, conv.answer, n_prompt + 3)
    assert len(cut["input_ids"]) == n_prompt + 3
    assert int((cut["labels"] != IGNORE_INDEX).sum()) == 3
    assert torch.equal(cut["input_ids"], full["input_ids"][: n_prompt + 3])
    with pytest.raises(SpotfakeError, match="raise --max-length"):
        encode_example(processor, image, ADAPTER_PROMPT, conv.answer, n_prompt - 1, sample_id="x")


def test_collator_pads_right_with_ignored_labels() -> None:
    examples = [
        {
            "input_ids": torch.tensor([5, 6, 7]),
            "labels": torch.tensor([-100, 6, 7]),
            "pixel_values": torch.ones(3, 2, 2),
        },
        {
            "input_ids": torch.tensor([5, 8]),
            "labels": torch.tensor([-100, 8]),
            "pixel_values": torch.zeros(3, 2, 2),
        },
    ]
    batch = PaddingCollator(pad_token_id=0)(examples)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 8, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [-100, 8, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["pixel_values"].shape == (2, 3, 2, 2)
    assert PaddingCollator(0, pad_to_multiple_of=8)(examples)["input_ids"].shape == (2, 8)


def test_dataloader_workers_stream_the_same_batches(processor, data_root: Path) -> None:
    from torch.utils.data import DataLoader

    dataset = ConversationDataset(fakeclue_examples(data_root, processor), processor)
    collate = PaddingCollator(processor.tokenizer.pad_token_id)
    serial = list(DataLoader(dataset, batch_size=4, collate_fn=collate))  # type: ignore[arg-type]
    parallel = list(DataLoader(dataset, batch_size=4, collate_fn=collate, num_workers=2))  # type: ignore[arg-type]
    assert len(serial) == len(parallel) == 2
    for a, b in zip(serial, parallel, strict=True):
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a)


def toy_task(samples: list[Sample]) -> LoadedTask:
    spec = TaskSpec(name="toy", version="1", description="toy", reader="x:y")
    return LoadedTask(spec, samples, "none", None, {"split": "train"})


def test_every_reference_is_one_example(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(image)
    sample = Sample(id="v/0", label="real", prompt="q", images=(image,), references=("One.", " ", "Two. "))
    examples = task_conversations(toy_task([sample]))
    assert [e.answer for e in examples] == ["One.", "Two."]
    assert {e.id for e in examples} == {"v/0"}


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (
            Sample(id="s1", label="fake", prompt="q", images=(Path("a.png"),)),
            "sample s1 has no reference answer",
        ),
        (
            Sample(
                id="s2", label="fake", prompt="q", images=(Path("a.png"), Path("b.png")), references=("x",)
            ),
            "sample s2 has 2 images",
        ),
    ],
)
def test_samples_that_cannot_train_are_one_clear_error(sample: Sample, message: str) -> None:
    with pytest.raises(SpotfakeError, match=message):
        task_conversations(toy_task([sample]), check_images=False)
    with pytest.raises(SpotfakeError, match="no samples"):
        task_conversations(toy_task([]))


def test_missing_image_is_reported_before_training(tmp_path: Path) -> None:
    root = write_fakeclue(tmp_path, n=4)
    (root / "train" / "synthetic" / "real" / "0003.png").unlink()
    with pytest.raises(
        SpotfakeError,
        match=r"image not found: .*0003\.png \(sample synthetic/real/0003\.png; 1 of 4 images missing\)",
    ):
        task_conversations(load_task("fakeclue", root, {"split": "train"}))


def test_ddvqas_published_train_split_gives_one_example_per_answer_on_its_own_question(
    shared_data: SharedData,
) -> None:
    root = shared_data("data", "DD-VQA")
    train_set = shared_data("data", "DD-VQA", "DQ_FF++", "train_set")
    task = load_task("ddvqa", root, {"split": "train"})
    examples = task_conversations(task, check_images=False)  # the frames are not part of the release
    answers = {}
    for path in sorted(train_set.glob("*/*.json")):
        for key, questions in json.loads(path.read_text(encoding="utf-8")).items():
            for qid, item in questions.items():
                answers[f"{key}/{qid}"] = (item["question"], [a.strip() for a in item["answer"] if a.strip()])
    assert len(examples) == sum(len(a) for _, a in answers.values())
    assert (len(answers), len(examples)) == (7312, 9858)  # the figures docs/training.md gives
    samples = {s.id: s for s in task.samples}
    for example in examples:
        question, references = answers[example.id]
        assert example.prompt == question_for(samples[example.id])
        assert example.prompt == question.replace("<image>", "").strip()
        assert example.answer in references
    assert len({e.prompt for e in examples}) == 6  # whole image, skin, eyebrows, eyes, nose, mouth
