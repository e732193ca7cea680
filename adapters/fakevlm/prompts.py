"""What a FakeVLM-style model reads for one question: the question chosen, then its prompt format.

Two formats exist upstream (github.com/opendatalab/FakeVLM):

- ``raw``: ``<image>`` followed by the question, no chat template. FakeVLM's evaluation script feeds the
  annotation's human turn this way (``scripts/eval.py`` lines 61-62), and so does the ``fakevlm`` adapter
  for the published checkpoint.
- ``chat``: the question as a user message (text part, then one image part) through the base model's chat
  template with the assistant's opening, e.g. ``USER: <image>\\nDoes the image looks real/fake? ASSISTANT:``
  for llava-1.5-7b-hf. FakeVLM's trainer builds its examples this way (``collators/llava_1_5.py`` lines
  69-92, ``processor.apply_chat_template``), so it is the default of ``spotfake train fakevlm``.

A model trained here records its format in ``prompt_format.json`` in its folder; the adapter reads it, so a
checkpoint is evaluated in the format it was trained in. A folder without the file (the published FakeVLM,
the committed demo model) is read as ``raw``.

Which question: the published FakeVLM question, unless the task asks every sample its own question
(``Sample.question``, e.g. DD-VQA's per-part questions), in which case the sample's question. Training and evaluation share this
rule (:func:`question_for`), so a model is trained on the questions it will be asked.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import read_json_strict
from spotfake.harness.types import Sample

PROMPT_FORMATS = ("chat", "raw")
TRAIN_DEFAULT_FORMAT = "chat"
"""The upstream trainer's format (see the module docstring)."""
FORMAT_FILE = "prompt_format.json"
"""Written by ``spotfake train fakevlm`` into the model folder: the format the model was trained in."""

PUBLISHED_QUESTION = "Does the image looks real/fake?"
"""FakeVLM's question, as its evaluation script asks it (grammar included)."""
QUESTION_CHOICES = ("auto", "published", "sample")
"""``auto``: the sample's own question when the task asks per question, else the published one."""

IMAGE_TAG = re.compile(r"<image>\s*")


def question_text(prompt: str) -> str:
    """The question without LLaVA's ``<image>`` placeholders."""
    return IMAGE_TAG.sub("", prompt).strip()


def own_question(sample: Sample) -> str | None:
    """The sample's own question when the task asks one per sample (``Sample.question``), else None."""
    question = sample.question
    return question if question is not None and question.strip() else None


def question_for(sample: Sample, choice: str = "auto") -> str:
    """The question put to the model for ``sample`` under ``choice`` (one of :data:`QUESTION_CHOICES`):
    ``auto`` = the sample's own question if it has one, else the published question; ``published`` = the
    published question; ``sample`` = the sample's prompt as the task wrote it."""
    own = own_question(sample)
    if choice == "auto" and own is not None:
        return question_text(own)
    if choice == "sample":
        return question_text(sample.prompt)
    return PUBLISHED_QUESTION


def raw_prompt(question: str) -> str:
    """``<image>`` then the question: the published FakeVLM prompt for :data:`PUBLISHED_QUESTION`."""
    return "<image>" + question_text(question)


def chat_messages(question: str) -> list[dict[str, Any]]:
    """One user message as FakeVLM's collator writes it: the text part, then one image part."""
    content = [{"type": "text", "text": question_text(question)}, {"type": "image"}]
    return [{"role": "user", "content": content}]


def chat_template_of(processor: Any) -> str | None:
    """The processor's chat template (or its tokenizer's), or None when the model has none."""
    template = getattr(processor, "chat_template", None)
    if not template:
        template = getattr(getattr(processor, "tokenizer", None), "chat_template", None)
    return template if isinstance(template, str) and template else None


def check_format(
    prompt_format: str, processor: Any, *, where: str, fix: str = "use the raw prompt format instead"
) -> None:
    """Refuse an unknown format, or ``chat`` for a model without a chat template (one line naming the fix)."""
    if prompt_format not in PROMPT_FORMATS:
        raise SpotfakeError(f"{where}: prompt format {prompt_format!r}; expected chat or raw")
    if prompt_format == "chat" and chat_template_of(processor) is None:
        raise SpotfakeError(f"{where}: the model has no chat template; {fix}")


def format_prompt(question: str, prompt_format: str, processor: Any) -> str:
    """The text fed to the processor (which expands ``<image>`` into the image's positions)."""
    if prompt_format == "raw":
        return raw_prompt(question)
    text = processor.apply_chat_template(
        chat_messages(question),
        chat_template=chat_template_of(processor),
        add_generation_prompt=True,
        tokenize=False,
    )
    return str(text)


def template_sha256(processor: Any) -> str | None:
    """A short sha256 of the chat template (recorded instead of the whole template)."""
    template = chat_template_of(processor)
    return hashlib.sha256(template.encode()).hexdigest()[:16] if template else None


def write_prompt_format(folder: Path, prompt_format: str, processor: Any) -> None:
    """Record the format a model was trained in (and its template's hash) in ``folder``."""
    record = {"prompt_format": prompt_format, "chat_template_sha256": None}
    if prompt_format == "chat":
        record["chat_template_sha256"] = template_sha256(processor)
    (Path(folder) / FORMAT_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def recorded_prompt_format(path: str) -> str | None:
    """The format recorded in a local model folder, or None (hub ids, folders trained elsewhere)."""
    file = Path(path) / FORMAT_FILE
    if not file.is_file():
        return None
    record = read_json_strict(file, what="the model's prompt format record", max_bytes=1 << 16)
    value = record.get("prompt_format") if isinstance(record, dict) else None
    if value not in PROMPT_FORMATS:
        raise SpotfakeError(f"{file}: prompt_format {value!r}; expected chat or raw")
    return str(value)
