"""FakeClue conversations for training: the prompt matches evaluation, the loss sees only the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from fixtures.training.fakeclue import CORPUS, PROMPT, write_fakeclue
from PIL import Image

from adapters.fakevlm.adapter import PROMPT as ADAPTER_PROMPT
from adapters.fakevlm.adapter import SCORE_CONTEXT, continuation_token
from adapters.fakevlm.data import (
    IGNORE_INDEX,
    ConversationDataset,
    PaddingCollator,
    answer_ids,
    encode_example,
    evaluation_prompt,
    read_conversations,
)
from adapters.fakevlm.tiny import build_tiny_llava
from harness.errors import SpotfakeError


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory):
    from transformers import AutoProcessor

    folder = build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"), corpus=CORPUS)
    return AutoProcessor.from_pretrained(folder)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fakeclue(tmp_path_factory.mktemp("fakeclue"), n=6)


def test_prompt_is_the_adapters_published_prompt() -> None:
    assert evaluation_prompt(PROMPT) == ADAPTER_PROMPT == "<image>Does the image looks real/fake?"
    assert evaluation_prompt("<image>\nIs this photo real?") == "<image>Is this photo real?"
    assert evaluation_prompt("Is this photo real?") == "<image>Is this photo real?"


def test_only_answer_tokens_and_eos_carry_labels(processor, data_root: Path) -> None:
    dataset = ConversationDataset(read_conversations(data_root), processor, max_length=1024)
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
    conv = read_conversations(data_root)[0]
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

    dataset = ConversationDataset(read_conversations(data_root), processor)
    collate = PaddingCollator(processor.tokenizer.pad_token_id)
    serial = list(DataLoader(dataset, batch_size=4, collate_fn=collate))
    parallel = list(DataLoader(dataset, batch_size=4, collate_fn=collate, num_workers=2))
    assert len(serial) == len(parallel) == 2
    for a, b in zip(serial, parallel, strict=True):
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a)


def _write(root: Path, records: object) -> Path:
    (root / "data_json").mkdir(parents=True, exist_ok=True)
    (root / "data_json" / "train.json").write_text(json.dumps(records), encoding="utf-8")
    return root


def _record(image: str = "a.png", turns: object = None) -> dict[str, object]:
    turns = (
        turns if turns is not None else [{"from": "human", "value": PROMPT}, {"from": "gpt", "value": "x"}]
    )
    return {"image": image, "label": 0, "cate": "c", "conversations": turns}


def test_missing_annotation_file_names_the_expected_path(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match=r"data_json/train\.json"):
        read_conversations(tmp_path)


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "data_json").mkdir()
    (tmp_path / "data_json" / "train.json").write_text('[\n{"image": "a.png",\n', encoding="utf-8")
    with pytest.raises(SpotfakeError, match=r"malformed JSON in .*train\.json line 3"):
        read_conversations(tmp_path)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_record(image="../outside.png"), "escapes the image root"),
        (_record(image="/etc/passwd"), "escapes the image root"),
        (_record(turns=[{"from": "human", "value": PROMPT}]), r"record 0 \(sample a\.png\).*one human turn"),
        (
            _record(turns=[{"from": "gpt", "value": "x"}, {"from": "human", "value": PROMPT}]),
            "one human turn",
        ),
        (
            _record(turns=[{"from": "human", "value": PROMPT}, {"from": "gpt", "value": "  "}]),
            "gpt turn is empty",
        ),
        ({"label": 0}, "missing 'image'"),
    ],
)
def test_bad_records_are_one_clear_error(tmp_path: Path, record: object, message: str) -> None:
    with pytest.raises(SpotfakeError, match=message):
        read_conversations(_write(tmp_path, [record]), check_images=False)


def test_missing_image_is_reported_before_training(tmp_path: Path) -> None:
    root = _write(tmp_path, [_record("a.png"), _record("b.png")])
    (root / "train").mkdir()
    Image.new("RGB", (8, 8)).save(root / "train" / "a.png")
    with pytest.raises(
        SpotfakeError, match=r"image not found: .*b\.png \(sample b\.png; 1 of 2 images missing\)"
    ):
        read_conversations(root)


def test_duplicate_image_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="repeats image 'a.png'"):
        read_conversations(_write(tmp_path, [_record("a.png"), _record("a.png")]), check_images=False)
