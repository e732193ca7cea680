"""Training examples for supervised fine-tuning of a LLaVA-style model: tokenising, masking and batching.

An example is one image, the prompt the model will read at evaluation (a question in the run's prompt format,
see :mod:`adapters.fakevlm.prompts`) and the answer to learn, followed by the end-of-sequence token. The loss
is taken on the answer and the end-of-sequence token only: every prompt and image position is labelled
``-100``. Images are read from disk in ``__getitem__`` so that a DataLoader's workers stream them; nothing
loads the whole set. Where the examples come from (a task's samples) is :mod:`adapters.fakevlm.train_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError

IGNORE_INDEX = -100
"""Label value that the loss skips (PyTorch's ``CrossEntropyLoss`` default ``ignore_index``)."""


@dataclass(frozen=True)
class Conversation:
    """One training example: an image file, the prompt text the model reads and the answer to learn.

    Built from a task sample, ``prompt`` first holds the question; ``train_data.with_prompts`` turns it
    into the prompt text of the run's format before the examples are encoded."""

    id: str
    image: Path
    prompt: str
    answer: str
    label: str | None = None
    category: str | None = None


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
            self.processor, image, conv.prompt, conv.answer, self.max_length, sample_id=conv.id
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
