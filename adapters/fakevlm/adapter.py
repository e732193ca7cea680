"""FakeVLM (Wen et al. 2025, arXiv 2503.14905): LLaVA-1.5-7B fully fine-tuned on FakeClue.

The published evaluation feeds the raw prompt ``<image>Does the image looks real/fake?`` to
``LlavaForConditionalGeneration`` with no chat template (the authors' eval script does so, although their
trainer wrapped the questions in the base model's chat template), RGB images through the checkpoint's own
processor, greedy decoding and 256 new tokens. This adapter reproduces that, batched with left padding (the
released loop padded every prompt to 1024 tokens; padding changes nothing in the answers but wastes
compute, so it is not done here). A model trained by ``spotfake train fakevlm`` is asked in the prompt
format it recorded (``prompt_format.json``), and a task that gives each sample its own question (DD-VQA)
has that question asked; :mod:`adapters.fakevlm.prompts` holds both rules.

``mode=score`` reads p(fake) from the next-token distribution after the prompt followed by
" This is a" (the opening of every FakeClue answer): p(fake) = p(" fake") / (p(" fake") + p(" real"))
(:mod:`adapters.verdict_scores`, shared with the ``hf`` adapter, which sums token sets instead).
That gives a ranking for AUC and a verdict that always parses. ``mode=both`` generates the text and adds
the score (one extra forward pass per batch).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from spotfake.adapters.batching import HalvingBatcher
from spotfake.adapters.devices import choose_device, choose_dtype, dtype_name
from spotfake.adapters.fakevlm.prompts import (
    PROMPT_FORMATS,
    PUBLISHED_QUESTION,
    QUESTION_CHOICES,
    check_format,
    format_prompt,
    question_for,
    recorded_prompt_format,
    template_sha256,
)
from spotfake.adapters.generation import GreedySettings, LocalGenerator, load_pretrained, model_id
from spotfake.adapters.model_args import choice_arg, int_arg
from spotfake.adapters.verdict_scores import VerdictTokens, score_rows
from spotfake.adapters.weights_hash import weights_hash_for
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.types import Response

PROMPT = "<image>Does the image looks real/fake?"
"""The exact prompt of FakeVLM's evaluation scripts (grammar included), with no chat template."""

MAX_NEW_TOKENS = 256
"""New tokens per answer in the published protocol."""

DEFAULT_PATH = "lingcco/fakeVLM"
"""The released weights on the Hugging Face hub."""

SCORE_CONTEXT = " This is a"
"""Appended to the prompt for scoring: FakeClue answers open with "This is a fake/real image."."""

SCORE_WORDS = {"real": " real", "fake": " fake"}

MODES = ("generate", "score", "both")
PROMPT_SOURCES = QUESTION_CHOICES
PROMPT_FORMAT_CHOICES = ("auto", *PROMPT_FORMATS)

IMAGE_TAG = re.compile(r"<image>\s*")


def continuation_token(tokenizer: Any, context: str, word: str) -> int:
    """The first token of ``word`` as the tokenizer splits it right after ``context``.

    Tokenising ``context + word`` and removing the tokens of ``context`` handles both SentencePiece
    ("▁fake") and byte-level BPE ("Ġfake") leading-space conventions without guessing either.
    """
    base = tokenizer(context, add_special_tokens=False)["input_ids"]
    full = tokenizer(context + word, add_special_tokens=False)["input_ids"]
    if len(full) <= len(base) or full[: len(base)] != base:
        raise SpotfakeError(
            f"fakevlm: cannot score: the tokenizer merges {word!r} into the end of {context!r}; use mode=generate"
        )
    return int(full[len(base)])


def complete_llava_processor(processor: Any, config: Any) -> list[str]:
    """Fill the LLaVA processor fields that older checkpoints (FakeVLM's among them) do not save, from the
    model config, so that ``<image>`` expands to as many tokens as the vision tower gives features.
    Returns the names of the fields set."""
    filled = []
    if getattr(processor, "patch_size", 0) is None:
        processor.patch_size = config.vision_config.patch_size
        filled.append("patch_size")
    if getattr(processor, "vision_feature_select_strategy", "") is None:
        processor.vision_feature_select_strategy = config.vision_feature_select_strategy
        filled.append("vision_feature_select_strategy")
    clip_tower = getattr(config.vision_config, "model_type", "") == "clip_vision_model"
    if clip_tower and getattr(processor, "num_additional_image_tokens", None) == 0:
        processor.num_additional_image_tokens = 1  # CLIP's CLS token comes before the patch features
        filled.append("num_additional_image_tokens")
    return filled


def score_verdict(p_fake: float) -> str:
    """The sentence returned in score mode, in FakeClue's own wording."""
    return "This is a fake image." if p_fake >= 0.5 else "This is a real image."


class FakeVLM(Model):
    """FakeVLM with its published protocol; ``--model-args`` are strings:

    ``path`` (local folder or hub id, default ``lingcco/fakeVLM``), ``mode`` (generate | score | both),
    ``batch_size`` (16), ``max_new_tokens`` (256), ``device`` (auto | cpu | cuda[:N] | mps), ``dtype``
    (auto = bf16 on GPU, fp32 on CPU), ``prompt`` (auto = the sample's own question where the task asks
    one per sample, as DD-VQA does, else the published FakeVLM question; published = always the published
    question; sample = always the sample's prompt; ``prompt_source`` is the older name), ``prompt_format``
    (auto = the format recorded by ``spotfake train fakevlm`` in the model folder, else raw; raw =
    ``<image>`` + question as FakeVLM's evaluation script; chat = the checkpoint's chat template),
    ``processor`` (folder or hub id of the processor when the checkpoint ships none, e.g.
    llava-hf/llava-1.5-7b-hf).
    """

    needs_images = True
    device_map = True
    """Load through accelerate's device map (the ``lmm`` extra); the small demo model does without."""

    def __init__(
        self,
        path: str = DEFAULT_PATH,
        mode: str = "generate",
        batch_size: str | int = 16,
        max_new_tokens: str | int = MAX_NEW_TOKENS,
        device: str | None = None,
        dtype: str | None = None,
        prompt: str = "auto",
        processor: str | None = None,
        prompt_format: str = "auto",
        prompt_source: str | None = None,
    ) -> None:
        from transformers import AutoProcessor, LlavaForConditionalGeneration

        self.path = str(path)
        self.processor_path = str(processor) if processor else None
        self.mode = choice_arg("fakevlm", "mode", mode, MODES)
        if prompt_source is not None:
            prompt = choice_arg("fakevlm", "prompt_source", prompt_source, PROMPT_SOURCES)
        self.prompt_source = choice_arg("fakevlm", "prompt", prompt, PROMPT_SOURCES)
        self.prompt_format = choice_arg("fakevlm", "prompt_format", prompt_format, PROMPT_FORMAT_CHOICES)
        self.batch_size = int_arg("fakevlm", "batch_size", batch_size, minimum=1)
        self.greedy = GreedySettings(int_arg("fakevlm", "max_new_tokens", max_new_tokens, minimum=1))
        self.device = choose_device(device)
        self.dtype = choose_dtype(dtype, self.device)
        model, loaded_processor = load_pretrained(
            "fakevlm",
            LlavaForConditionalGeneration,
            AutoProcessor,
            self.path,
            device=self.device,
            dtype=self.dtype,
            processor_path=self.processor_path,
            device_map=self.device_map,
        )
        self.filled_processor_fields = complete_llava_processor(loaded_processor, model.config)
        if self.prompt_format == "auto":
            self.prompt_format = recorded_prompt_format(self.path) or "raw"
        check_format(self.prompt_format, loaded_processor, where=f"fakevlm: {self.path} (prompt_format=chat)")
        self.engine = LocalGenerator(model, loaded_processor, self.device, self.dtype)
        self.batcher = HalvingBatcher(self.batch_size)
        self.score_ids: dict[str, int] = {}
        if self.mode in ("score", "both"):
            self.score_ids = {
                label: continuation_token(
                    self.engine.tokenizer, self._prompt(PUBLISHED_QUESTION) + SCORE_CONTEXT, word
                )
                for label, word in SCORE_WORDS.items()
            }
            if self.score_ids["real"] == self.score_ids["fake"]:
                raise SpotfakeError(
                    "fakevlm: ' real' and ' fake' start with the same token; use mode=generate"
                )
        self._weights_hash: str | None = None

    # ------------------------------------------------------------ contract

    def settings(self) -> dict[str, Any]:
        """Everything that changes the answers (the weights are in :meth:`weights_hash`)."""
        out: dict[str, Any] = {
            "model": model_id(self.path),
            "processor": model_id(self.processor_path) if self.processor_path else None,
            "prompt": self._prompt(
                "{sample prompt}" if self.prompt_source == "sample" else PUBLISHED_QUESTION
            ),
            "chat_template": template_sha256(self.engine.processor) if self.prompt_format == "chat" else None,
            "mode": self.mode,
            "dtype": dtype_name(self.dtype),
            "batch_size": self.batch_size,
            "padding": "left, longest in batch",
        }
        if self.prompt_source == "published":
            out["question"] = "published (the task's own questions are not asked)"
        if self.mode in ("generate", "both"):
            out["generation"] = self.greedy.as_dict()
        if self.score_ids:
            tokens = self.engine.tokenizer.convert_ids_to_tokens(list(self.score_ids.values()))
            out["score"] = {
                "context": out["prompt"] + SCORE_CONTEXT,
                "tokens": dict(zip(self.score_ids, tokens, strict=True)),
            }
        return out

    def weights_hash(self) -> str | None:
        """Hash of the weight files' names, sizes and first/last MiB (computed once)."""
        if self._weights_hash is None:
            self._weights_hash = weights_hash_for(self.path)
        return self._weights_hash

    def predict(self, items: Sequence[Item]) -> list[Response]:
        """One response per item: generated text, p(fake), or both, depending on ``mode``."""
        return self.batcher.run(list(items), self._predict_batch)

    def close(self) -> None:
        """Drop the model so its memory can be reclaimed."""
        from spotfake.adapters.devices import release_memory

        self.engine.model = None
        release_memory()

    # ------------------------------------------------------------ internals

    def prompt_for(self, item: Item) -> str:
        """The text fed to the model for one item: its question (``prompt``) in the model's prompt format."""
        return self._prompt(question_for(item.sample, self.prompt_source))

    def _prompt(self, question: str) -> str:
        return format_prompt(question, self.prompt_format, self.engine.processor)

    def _predict_batch(self, items: Sequence[Item]) -> list[Response]:
        responses: list[Response | None] = [None] * len(items)
        runnable = []
        for row, item in enumerate(items):
            if len(item.images) != 1:
                responses[row] = Response(
                    error=f"FakeVLM takes one image per sample; sample {item.sample.id} has {len(item.images)}"
                )
            else:
                runnable.append(row)
        if runnable:
            results = self._run(
                [self.prompt_for(items[r]) for r in runnable],
                [[items[r].images[0].convert("RGB")] for r in runnable],
                [items[r].sample.id for r in runnable],
            )
            for row, response in zip(runnable, results, strict=True):
                responses[row] = response
        return [r if r is not None else Response(error="internal: no response") for r in responses]

    def _run(self, prompts: list[str], images: list[list[Any]], ids: list[str]) -> list[Response]:
        out: list[Response] = [Response() for _ in prompts]
        if self.mode in ("generate", "both"):
            kept, inputs, errors = self.engine.encode_isolating(prompts, images, ids)
            for row, error in errors.items():
                out[row] = Response(error=error)
            if inputs is not None:
                generated = self.engine.generate(inputs, self.greedy).responses()
                for row, response in zip(kept, generated, strict=True):
                    out[row] = response
        if self.mode in ("score", "both"):
            rows = [r for r in range(len(prompts)) if out[r].error is None]
            if rows:
                scored = self._score(
                    [prompts[r] + SCORE_CONTEXT for r in rows],
                    [images[r] for r in rows],
                    [ids[r] for r in rows],
                )
                for row, (p_fake, score_error, seconds) in zip(rows, scored, strict=True):
                    if score_error is not None:
                        out[row] = Response(error=score_error)
                    elif self.mode == "score":
                        out[row] = Response(text=score_verdict(p_fake), score=p_fake, latency_s=seconds)
                    else:
                        out[row].score = p_fake
                        out[row].latency_s = (out[row].latency_s or 0.0) + seconds
        return out

    def _score(
        self, texts: list[str], images: list[list[Any]], ids: list[str]
    ) -> list[tuple[float, str | None, float]]:
        """``(p_fake, error, seconds per sample)`` per row, from the next-token logits of the two words."""
        tokens = VerdictTokens(fake=(self.score_ids["fake"],), real=(self.score_ids["real"],))
        return score_rows(self.engine, texts, images, ids, tokens)
