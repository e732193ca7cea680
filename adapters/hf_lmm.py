"""Any transformers image-text-to-text model, prompted through its own chat template.

LLaVA-1.5 / NeXT, Qwen2-VL / Qwen2.5-VL, InternVL (HF format), Idefics3 / SmolVLM, Gemma 3 and the like
load through ``AutoModelForImageTextToText`` + ``AutoProcessor``. Each sample becomes one user message with
one image part per image followed by the sample's question; the processor's chat template turns it into
the model's own prompt format. Greedy decoding, left padding, only the new tokens decoded; the default
``max_new_tokens`` depends on the model family (:mod:`adapters.token_budget`: 2,048 for reasoning models).

``mode=score`` gives p(fake) from one forward pass per sample, with no generation: the probability mass of
the "fake" and "real" token sets (:mod:`adapters.verdict_scores`) at the first answer position after the
chat template (after ``score_prefix``, when given, as the opening of the assistant's answer). The response
text is then the verdict word ("fake" when p(fake) >= 0.5), so the verdict parser agrees with the score.
``mode=both`` generates the answer and adds the score (one more forward pass per batch).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spotfake.adapters.batching import HalvingBatcher, sorted_order
from spotfake.adapters.devices import choose_device, choose_dtype, dtype_name, release_memory
from spotfake.adapters.generation import GreedySettings, LocalGenerator, load_pretrained, model_id
from spotfake.adapters.model_args import choice_arg, int_arg
from spotfake.adapters.token_budget import ANSWER_MAX_NEW_TOKENS, default_max_new_tokens
from spotfake.adapters.verdict_scores import (
    VERDICT_WORDS,
    VerdictTokens,
    score_encoded,
    score_rows,
    verdict_token_sets,
)
from spotfake.adapters.weights_hash import weights_hash_for
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.types import Response

MODES = ("generate", "score", "both")

IMAGE_TAG = re.compile(r"<image>\s*")
"""LLaVA-style image placeholders in a task's prompt; the chat template places images itself."""


def build_messages(prompt: str, n_images: int, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """The chat for one sample: an optional system message, then one user message holding ``n_images``
    image parts followed by the question (with any literal ``<image>`` tags removed)."""
    question = IMAGE_TAG.sub("", prompt).strip()
    content: list[dict[str, Any]] = [{"type": "image"} for _ in range(n_images)]
    content.append({"type": "text", "text": question})
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    messages.append({"role": "user", "content": content})
    return messages


class HFImageTextModel(Model):
    """A transformers image-text-to-text model with its chat template; ``--model-args`` are strings:

    ``path`` (local folder or hub id; required), ``mode`` (generate | score | both), ``batch_size`` (8),
    ``max_new_tokens`` (by model family: 2048 for reasoning models, else 256), ``device`` (auto | cpu |
    cuda[:N] | mps), ``dtype`` (auto = bf16 where supported, fp32 on CPU), ``system_prompt`` (none),
    ``chat_template`` (a Jinja file replacing the model's own, for checkpoints that ship none),
    ``score_prefix`` (text after the chat template where the verdict is scored, e.g. "This image is";
    default none: the first answer token).
    """

    needs_images = True

    def __init__(
        self,
        path: str | None = None,
        batch_size: str | int = 8,
        max_new_tokens: str | int | None = None,
        device: str | None = None,
        dtype: str | None = None,
        system_prompt: str | None = None,
        chat_template: str | None = None,
        mode: str = "generate",
        score_prefix: str | None = None,
    ) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        if not path:
            raise SpotfakeError("hf: --model-args path=<local folder or hub id> is required")
        self.path = str(path)
        self.mode = choice_arg("hf", "mode", mode, MODES)
        self.score_prefix = score_prefix or ""
        self.batch_size = int_arg("hf", "batch_size", batch_size, minimum=1)
        self.system_prompt = system_prompt or None
        self.device = choose_device(device)
        self.dtype = choose_dtype(dtype, self.device)
        model, processor = load_pretrained(
            "hf", AutoModelForImageTextToText, AutoProcessor, self.path, device=self.device, dtype=self.dtype
        )
        if chat_template:
            template_file = Path(chat_template).expanduser()
            if not template_file.is_file():
                raise SpotfakeError(f"hf: chat_template file not found: {chat_template} (give a .jinja file)")
            processor.chat_template = template_file.read_text(encoding="utf-8")
        tokenizer_template = getattr(getattr(processor, "tokenizer", None), "chat_template", None)
        if not getattr(processor, "chat_template", None) and isinstance(tokenizer_template, str):
            processor.chat_template = tokenizer_template
        if not getattr(processor, "chat_template", None):
            raise SpotfakeError(
                f"hf: the model at {self.path!r} has no chat template; pass chat_template=<file.jinja> "
                "(or use --model fakevlm for FakeVLM's raw prompt)"
            )
        self.engine = LocalGenerator(model, processor, self.device, self.dtype)
        self.budget_reason: str | None = None
        if max_new_tokens is None or str(max_new_tokens).strip() == "":
            budget, self.budget_reason = default_max_new_tokens(model_id(self.path), self._template_text())
        else:
            budget = int_arg("hf", "max_new_tokens", max_new_tokens, minimum=1)
        self.greedy = GreedySettings(budget)
        self.score_tokens: VerdictTokens | None = None
        if self.mode in ("score", "both"):
            width = getattr(model.get_output_embeddings(), "out_features", None)
            self.score_tokens = verdict_token_sets(self.engine.tokenizer, "hf", width)
        self.batcher = HalvingBatcher(self.batch_size)
        self._weights_hash: str | None = None

    def settings(self) -> dict[str, Any]:
        """Everything that changes the answers; the template is recorded by its hash, the score's token
        sets by their tokens."""
        out: dict[str, Any] = {
            "model": model_id(self.path),
            "chat_template_sha256": hashlib.sha256(self._template_text().encode()).hexdigest()[:16],
            "system_prompt": self.system_prompt,
            "dtype": dtype_name(self.dtype),
            "batch_size": self.batch_size,
            "padding": "left, longest in batch",
        }
        if self.mode != "score":
            out["generation"] = self.greedy.as_dict()
            if self.budget_reason and self.greedy.max_new_tokens != ANSWER_MAX_NEW_TOKENS:
                out["max_new_tokens_default"] = self.budget_reason
        if self.mode != "generate" and self.score_tokens is not None:
            out["mode"] = self.mode
            out["score"] = {
                "position": "first answer token after the chat template"
                + (" and score_prefix" if self.score_prefix else ""),
                "score_prefix": self.score_prefix,
                "p_fake": "mass(fake tokens) / (mass(fake tokens) + mass(real tokens))",
                "words": {label: list(words) for label, words in VERDICT_WORDS.items()},
                "tokens": self.score_tokens.described(self.engine.tokenizer),
            }
        return out

    def _template_text(self) -> str:
        template = self.engine.processor.chat_template
        return template if isinstance(template, str) else json.dumps(template, sort_keys=True)

    def weights_hash(self) -> str | None:
        """Hash of the weight files' names, sizes and first/last MiB (computed once)."""
        if self._weights_hash is None:
            self._weights_hash = weights_hash_for(self.path)
        return self._weights_hash

    def prompt_text(self, item: Item) -> str:
        """The templated prompt for one item (what the model reads, before image expansion)."""
        messages = build_messages(item.sample.prompt, len(item.images), self.system_prompt)
        return self.engine.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def predict(self, items: Sequence[Item]) -> list[Response]:
        """Generated answers, one per item, in order. Items are batched by number of images and prompt
        length so that little padding is computed."""
        texts = [self.prompt_text(item) for item in items]
        order = sorted_order([(len(item.images), len(text)) for item, text in zip(items, texts, strict=True)])
        jobs = [(items[i], texts[i]) for i in order]
        results = self.batcher.run(jobs, self._predict_batch)
        out: list[Response] = [Response() for _ in items]
        for position, index in enumerate(order):
            out[index] = results[position]
        return out

    def close(self) -> None:
        """Drop the model so its memory can be reclaimed."""
        self.engine.model = None
        release_memory()

    def _predict_batch(self, jobs: Sequence[tuple[Item, str]]) -> list[Response]:
        texts = [text + (self.score_prefix if self.mode == "score" else "") for _, text in jobs]
        images = [[img.convert("RGB") for img in item.images] for item, _ in jobs]
        ids = [item.sample.id for item, _ in jobs]
        out: list[Response] = [Response() for _ in jobs]
        kept, inputs, errors = self.engine.encode_isolating(texts, images, ids)
        for row, error in errors.items():
            out[row] = Response(error=error)
        if inputs is None:
            return out
        if self.mode != "score":
            generated = self.engine.generate(inputs, self.greedy).responses()
            for row, response in zip(kept, generated, strict=True):
                out[row] = response
        if self.score_tokens is not None:
            self._add_scores(out, kept, (texts, images, ids), inputs, self.score_tokens)
        return out

    def _add_scores(
        self,
        out: list[Response],
        kept: list[int],
        batch: tuple[Sequence[str], Sequence[Sequence[Any]], Sequence[str]],
        inputs: dict[str, Any],
        tokens: VerdictTokens,
    ) -> None:
        """Score the encoded rows of ``batch`` (prompts, images, ids): ``mode=score`` makes the response
        the verdict word, ``both`` adds the score to the generated text. The encoded ``inputs`` are
        scored as they are, unless ``both`` needs the prompts again with ``score_prefix``."""
        texts, images, ids = batch
        if self.mode == "both" and self.score_prefix:
            scored = score_rows(
                self.engine,
                [texts[r] + self.score_prefix for r in kept],
                [images[r] for r in kept],
                [ids[r] for r in kept],
                tokens,
            )
        else:
            scored = score_encoded(self.engine, inputs, [ids[r] for r in kept], tokens)
        for row, (p_fake, error, seconds) in zip(kept, scored, strict=True):
            if error is not None:
                out[row] = Response(error=error)
            elif self.mode == "score":
                out[row] = Response(text="fake" if p_fake >= 0.5 else "real", score=p_fake, latency_s=seconds)
            else:
                out[row].score = p_fake
                out[row].latency_s = (out[row].latency_s or 0.0) + seconds
