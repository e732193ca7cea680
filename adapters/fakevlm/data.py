"""FakeClue-format conversations for supervised fine-tuning of a LLaVA-style model.

A FakeClue annotation file (``<data-root>/data_json/<split>.json``) is a JSON list of records
``{"image": "<path relative to the image root>", "label": 0|1, "cate": ..., "conversations":
[{"from": "human", "value": "<image>Does the image looks real/fake?"}, {"from": "gpt", "value": "This is a
fake image. ..."}]}``; images live under ``<data-root>/<split>/``.

Each example is the evaluation prompt exactly as the FakeVLM adapter writes it (the raw human turn, no chat
template), followed by the answer (the ``gpt`` turn) and the end-of-sequence token. The loss is taken on the
answer and the end-of-sequence token only: every prompt and image position is labelled ``-100``. Images are
read from disk in ``__getitem__`` so that a DataLoader's workers stream them; nothing loads the whole set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import SpotfakeError

IGNORE_INDEX = -100
"""Label value that the loss skips (PyTorch's ``CrossEntropyLoss`` default ``ignore_index``)."""

IMAGE_TAG_TEXT = "<image>"


@dataclass(frozen=True)
class Conversation:
    """One training example: an image file, the human turn and the answer to learn."""

    id: str
    image: Path
    prompt: str
    answer: str
    label: str | None = None
    category: str | None = None


def annotation_path(data_root: Path, split: str, annotations: Path | None = None) -> Path:
    """The FakeClue annotation file for ``split`` (``<data-root>/data_json/<split>.json`` unless given)."""
    return Path(annotations) if annotations is not None else Path(data_root) / "data_json" / f"{split}.json"


def image_root_path(data_root: Path, split: str, image_root: Path | None = None) -> Path:
    """The folder image paths are relative to (``<data-root>/<split>`` unless given)."""
    return Path(image_root) if image_root is not None else Path(data_root) / split


def read_conversations(
    data_root: Path,
    split: str = "train",
    *,
    annotations: Path | None = None,
    image_root: Path | None = None,
    check_images: bool = True,
) -> list[Conversation]:
    """Read and validate a FakeClue annotation file; every problem is one clear :class:`SpotfakeError`.

    Records need an ``image`` path inside the image root and one ``human`` turn followed by one ``gpt`` turn.
    With ``check_images`` every image file must exist (a cheap ``stat``, so a typo in ``--data-root`` fails
    before training starts, not hours into it).
    """
    path = annotation_path(data_root, split, annotations)
    root = image_root_path(data_root, split, image_root)
    if not path.is_file():
        raise SpotfakeError(
            f"FakeClue annotation file not found: {path}; expected <data-root>/data_json/{split}.json "
            "(is --data-root right, or pass --annotations FILE)"
        )
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SpotfakeError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8"
        ) from None
    except json.JSONDecodeError as exc:
        raise SpotfakeError(
            f"malformed JSON in {path} line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(records, list):
        raise SpotfakeError(f"{path}: expected a JSON list of FakeClue records, got {type(records).__name__}")
    if not records:
        raise SpotfakeError(f"{path}: no records; a training split needs at least one conversation")
    root_resolved = root.resolve()
    conversations = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        conv = _parse_record(record, index, path, root, root_resolved)
        if conv.id in seen:
            raise SpotfakeError(
                f"{path}: record {index} repeats image {conv.id!r}; each image once per split"
            )
        seen.add(conv.id)
        conversations.append(conv)
    if check_images:
        missing = [c for c in conversations if not c.image.is_file()]
        if missing:
            raise SpotfakeError(
                f"image not found: {missing[0].image} (sample {missing[0].id}; {len(missing)} of "
                f"{len(conversations)} images missing); is --data-root right, or pass --image-root DIR"
            )
    return conversations


def _parse_record(record: Any, index: int, path: Path, root: Path, root_resolved: Path) -> Conversation:
    where = f"{path}: record {index}"
    if not isinstance(record, dict):
        raise SpotfakeError(f"{where}: expected a JSON object, got {type(record).__name__}")
    image = record.get("image")
    if not isinstance(image, str) or not image:
        raise SpotfakeError(f"{where}: missing 'image' (the image path relative to the image root)")
    where = f"{path}: record {index} (sample {image})"
    relative = Path(image)
    if relative.is_absolute() or not (root / relative).resolve().is_relative_to(root_resolved):
        raise SpotfakeError(f"{where}: image path escapes the image root {root}; use a path relative to it")
    turns = record.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise SpotfakeError(f"{where}: missing 'conversations' (a human turn followed by a gpt turn)")
    roles = [t.get("from") if isinstance(t, dict) else None for t in turns]
    if roles != ["human", "gpt"] or not all(isinstance(t.get("value"), str) for t in turns):
        raise SpotfakeError(
            f"{where}: 'conversations' must be one human turn then one gpt turn with string values, got roles "
            f"{roles}; split multi-turn dialogues into one record per question"
        )
    prompt, answer = turns[0]["value"], turns[1]["value"].strip()
    if not answer:
        raise SpotfakeError(f"{where}: the gpt turn is empty; there is no answer to learn")
    label = record.get("label")
    label_name = {0: "fake", 1: "real"}.get(label) if isinstance(label, int) else None
    category = record.get("cate")
    return Conversation(
        id=image,
        image=root / relative,
        prompt=prompt,
        answer=answer,
        label=label_name,
        category=category if isinstance(category, str) else None,
    )


def evaluation_prompt(human_turn: str) -> str:
    """The text the FakeVLM adapter feeds the model for this human turn: ``<image>`` then the question.

    This is the adapter's ``prompt_source=sample`` rule; for FakeClue's human turn it gives exactly the
    published prompt ``<image>Does the image looks real/fake?`` that the adapter uses by default.
    """
    from adapters.fakevlm.adapter import IMAGE_TAG

    return IMAGE_TAG_TEXT + IMAGE_TAG.sub("", human_turn).strip()


def answer_ids(tokenizer: Any, prompt: str, answer: str) -> list[int]:
    """Token ids of the answer as it continues the prompt after one space, then EOS.

    The answer is tokenised in context (``prompt + " " + answer`` minus the prompt's own tokens), so a
    byte-level BPE learns " This is a fake ..." with its leading space, the same tokens the adapter's score
    mode reads after ``prompt + " This is a"``; SentencePiece tokenizers give their usual "▁This".
    """
    context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full = tokenizer(prompt + " " + answer, add_special_tokens=False)["input_ids"]
    if len(full) > len(context) and full[: len(context)] == context:
        ids = list(full[len(context) :])
    else:  # the tokenizer merged across the boundary: fall back to the answer alone
        ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
    return ids + [tokenizer.eos_token_id]


def encode_example(
    processor: Any, image: Any, prompt: str, answer: str, max_length: int, *, sample_id: str = "?"
) -> dict[str, Any]:
    """Token ids, labels and pixel values for one example.

    The prompt goes through the processor exactly as at evaluation (it expands ``<image>`` into the image's
    feature positions); the answer follows as :func:`answer_ids` tokenises it, EOS last. Labels are
    ``-100`` on the prompt, the answer ids elsewhere. Only the answer is cut to fit ``max_length``: cutting
    image positions would break the model's image-feature count.
    """
    import torch

    encoded = processor(images=image, text=prompt, return_tensors="pt")
    prompt_ids = encoded["input_ids"][0]
    tokenizer = processor.tokenizer
    if tokenizer.eos_token_id is None:
        raise SpotfakeError("the base model's tokenizer has no eos_token; set one so answers can end")
    target = answer_ids(tokenizer, prompt, answer)
    room = max_length - len(prompt_ids)
    if room < 1:
        raise SpotfakeError(
            f"sample {sample_id}: the prompt alone is {len(prompt_ids)} tokens (image positions included), "
            f"longer than --max-length {max_length}; raise --max-length"
        )
    answer_tensor = torch.tensor(target[:room], dtype=prompt_ids.dtype)
    input_ids = torch.cat([prompt_ids, answer_tensor])
    labels = torch.cat([torch.full_like(prompt_ids, IGNORE_INDEX), answer_tensor])
    example = {"input_ids": input_ids, "labels": labels, "pixel_values": encoded["pixel_values"][0]}
    for key, value in encoded.items():
        if key not in ("input_ids", "attention_mask", "pixel_values"):
            example[key] = value[0]
    return example


class ConversationDataset:
    """A map-style dataset (``torch.utils.data.Dataset`` protocol) that reads each image when asked.

    Picklable, so DataLoader workers each get a copy and decode images in parallel.
    """

    def __init__(self, conversations: Sequence[Conversation], processor: Any, max_length: int = 1024) -> None:
        self.conversations = list(conversations)
        self.processor = processor
        self.max_length = max_length
        self.prompts = {c.prompt: evaluation_prompt(c.prompt) for c in self.conversations}

    def __len__(self) -> int:
        return len(self.conversations)

    def __getitem__(self, index: int) -> dict[str, Any]:
        from PIL import Image, UnidentifiedImageError

        conv = self.conversations[index]
        try:
            with Image.open(conv.image) as img:
                image = img.convert("RGB")
        except FileNotFoundError:
            raise SpotfakeError(
                f"image not found: {conv.image} (sample {conv.id}); is --data-root right?"
            ) from None
        except (UnidentifiedImageError, OSError) as exc:
            raise SpotfakeError(f"cannot read image {conv.image} (sample {conv.id}): {exc}") from None
        return encode_example(
            self.processor, image, self.prompts[conv.prompt], conv.answer, self.max_length, sample_id=conv.id
        )


class PaddingCollator:
    """Stack examples into a batch: right padding with the pad id, ``-100`` labels, a zero attention mask.

    ``pad_to_multiple_of`` (e.g. 8) rounds the padded length up for tensor-core friendly shapes on GPU.
    """

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int | None = None) -> None:
        self.pad_token_id = pad_token_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        length = max(len(e["input_ids"]) for e in examples)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch_size = len(examples)
        input_ids = torch.full((batch_size, length), self.pad_token_id, dtype=torch.long)
        labels = torch.full((batch_size, length), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((batch_size, length), dtype=torch.long)
        for row, example in enumerate(examples):
            n = len(example["input_ids"])
            input_ids[row, :n] = example["input_ids"]
            labels[row, :n] = example["labels"]
            attention_mask[row, :n] = 1
        batch: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        for key in examples[0]:
            if key not in batch:
                batch[key] = torch.stack([e[key] for e in examples])
        return batch
