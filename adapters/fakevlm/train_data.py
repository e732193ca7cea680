"""The data phase of FakeVLM training: a task's samples with reference answers become training examples.

Samples come through :func:`harness.task.load_task`, the same readers ``spotfake run`` uses, so any task
whose samples carry reference answers is a training set (FakeClue's train split, the demo suite, DD-VQA's
train split, a task YAML of one's own). Each sample must have one image; each of its references is one
example. The question is chosen by the adapter's rule (:func:`adapters.fakevlm.prompts.question_for`), so
a model is trained on the questions it will be asked; the prompt format is applied once the base model's
processor is loaded (:func:`with_prompts`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, cast

from spotfake.adapters.fakevlm.data import Conversation, ConversationDataset, PaddingCollator
from spotfake.adapters.fakevlm.prompts import format_prompt, question_for, raw_prompt
from spotfake.adapters.fakevlm.train_config import TrainConfig, task_args
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import LoadedTask, load_task
from spotfake.harness.types import Sample


def load_training_task(config: TrainConfig) -> LoadedTask:
    """The task split named by ``config`` (task, data root, reader arguments)."""
    return load_task(config.task, config.data_root, task_args(config))


def sample_conversations(sample: Sample) -> list[Conversation]:
    """One example per reference answer of ``sample``, holding its question (formatted later)."""
    return [
        Conversation(
            id=sample.id,
            image=sample.images[0],
            prompt=question_for(sample),
            answer=answer.strip(),
            label=sample.label,
            category=sample.category,
        )
        for answer in sample.references
        if answer.strip()
    ]


def task_conversations(task: LoadedTask, *, check_images: bool = True) -> list[Conversation]:
    """Every example of the task; a sample without a reference or with other than one image is refused.

    With ``check_images`` every image file must exist (a cheap ``stat``, so a typo in ``--data-root`` fails
    before training starts, not hours into it).
    """
    where = f"task {task.name} (split {task.args.get('split', '?')})"
    if not task.samples:
        raise SpotfakeError(f"{where}: no samples; a training split needs at least one")
    conversations: list[Conversation] = []
    for sample in task.samples:
        if len(sample.images) != 1:
            raise SpotfakeError(
                f"{where}: sample {sample.id} has {len(sample.images)} images; FakeVLM trains on one per sample"
            )
        examples = sample_conversations(sample)
        if not examples:
            raise SpotfakeError(
                f"{where}: sample {sample.id} has no reference answer; there is nothing to learn from it "
                "(train on a task whose samples carry reference explanations)"
            )
        conversations.extend(examples)
    if check_images:
        check_image_files(conversations)
    return conversations


def check_image_files(conversations: Sequence[Conversation]) -> None:
    """Every image file exists, or one line naming the first missing one and how many are missing."""
    missing = [c for c in conversations if not c.image.is_file()]
    if missing:
        raise SpotfakeError(
            f"image not found: {missing[0].image} (sample {missing[0].id}; {len(missing)} of "
            f"{len(conversations)} images missing); is --data-root right?"
        )


def base_corpus(conversations: Sequence[Conversation]) -> list[str]:
    """Texts a from-scratch tokenizer is trained on: raw prompts, and answers as training sees them
    (after the prompt and one space)."""
    return [raw_prompt(c.prompt) for c in conversations] + [" " + c.answer for c in conversations]


def with_prompts(
    conversations: Sequence[Conversation], prompt_format: str, processor: Any
) -> list[Conversation]:
    """The examples with each question turned into the prompt text of ``prompt_format``."""
    prompts = {q: format_prompt(q, prompt_format, processor) for q in {c.prompt for c in conversations}}
    return [dataclasses.replace(c, prompt=prompts[c.prompt]) for c in conversations]


def make_loader(
    conversations: Sequence[Conversation], processor: Any, config: TrainConfig, *, on_gpu: bool
) -> Any:
    """A shuffling DataLoader whose workers read and encode the images (padded right, to 8 on GPU)."""
    from torch.utils.data import DataLoader

    dataset = ConversationDataset(conversations, processor, max_length=config.max_length)
    pad_id = processor.tokenizer.pad_token_id
    if pad_id is None:
        pad_id = processor.tokenizer.eos_token_id
    return DataLoader(
        cast(Any, dataset),  # a map-style dataset (len + getitem), not a torch subclass
        batch_size=config.batch_size,
        shuffle=True,
        num_workers=config.num_workers,
        collate_fn=PaddingCollator(pad_id, pad_to_multiple_of=8 if on_gpu else None),
        pin_memory=on_gpu,
        persistent_workers=config.num_workers > 0,
    )
