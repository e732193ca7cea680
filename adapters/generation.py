"""Running a transformers image-text model: loading with a readable failure, greedy generation
settings, and decoding of the new tokens only.

Argument conversion is in :mod:`adapters.model_args`, device and dtype choice in :mod:`adapters.devices`,
out-of-memory halving in :mod:`adapters.batching`. torch is imported inside the functions that need it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotfake.adapters.load_errors import load_errors, load_failure
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.harness.types import Response

if TYPE_CHECKING:
    import torch


# ---------------------------------------------------------------- loading


def load_pretrained(
    owner: str,
    model_cls: Any,
    processor_cls: Any,
    path: str,
    *,
    device: torch.device,
    dtype: torch.dtype,
    processor_path: str | None = None,
    device_map: bool = True,
) -> tuple[Any, Any]:
    """Load a model (from ``path``) and its processor (from ``processor_path``, default ``path``) onto
    ``device`` in ``dtype``, in eval mode; a loading failure becomes one SpotfakeError line naming the
    path and the fix.

    ``device_map`` (checkpoints of any size) loads the weights straight onto ``device`` through
    accelerate, the ``lmm`` extra (one line naming it when absent); ``device_map=False`` (a small model
    such as the embedded demo) loads them on the CPU, then moves the model.
    """
    import transformers

    if device_map:
        require("accelerate", "lmm", f"spotfake run --model {owner}")

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    source = processor_path or path
    for label, where in (("model", path), ("processor", source)):
        if looks_local(where) and not Path(where).expanduser().exists():
            raise SpotfakeError(f"{owner}: {label} folder not found: {where} (is the path right?)")
    try:
        processor = processor_cls.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise SpotfakeError(
            f"{owner}: cannot load the processor from {source!r}: {load_failure(exc)} (hub ids need a "
            "connection or a cached copy; a checkpoint without tokenizer/processor files needs "
            "processor=<folder or hub id of its base model>)"
        ) from None
    placement = {"device_map": str(device)} if device_map else {}
    try:
        model = model_cls.from_pretrained(path, **{dtype_key: dtype}, **placement)
        if not device_map:
            model = model.to(device)
    except load_errors() as exc:
        raise SpotfakeError(
            f"{owner}: cannot load model from {path!r}: {load_failure(exc)} (pass path=<local folder with "
            "config.json>; hub ids need a connection or a cached copy)"
        ) from None
    model.eval()
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is not None:
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
            tokenizer.pad_token = tokenizer.eos_token
    return model, processor


def looks_local(path: str) -> bool:
    """True when ``path`` can only be a filesystem path, not a hub id (``org/name``): absolute, ``~``,
    ``./``, ``../``, or more than one slash."""
    return path.startswith(("/", "~", "./", "../", ".\\")) or path.count("/") > 1 or "\\" in path


def model_id(path: str) -> str:
    """The name recorded in settings: a hub id as given, or a local folder's name (its absolute location
    is machine-specific; the weights hash identifies the weights)."""
    local = Path(path).expanduser()
    return local.resolve().name if local.exists() else path


# ---------------------------------------------------------------- generation


@dataclass(frozen=True)
class GreedySettings:
    """Greedy decoding: no sampling, one beam, at most ``max_new_tokens`` new tokens (stops at EOS)."""

    max_new_tokens: int
    min_new_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The settings recorded in results (they change predictions)."""
        out: dict[str, Any] = {"do_sample": False, "num_beams": 1, "max_new_tokens": self.max_new_tokens}
        if self.min_new_tokens:
            out["min_new_tokens"] = self.min_new_tokens
        return out

    def generation_config(self, model: Any, tokenizer: Any) -> Any:
        """The model's own generation config with sampling switched off (a checkpoint that ships
        ``temperature=0.9`` must not sample) and this length limit."""
        config = copy.deepcopy(model.generation_config)
        config.update(
            do_sample=False,
            num_beams=1,
            temperature=None,
            top_p=None,
            top_k=None,
            max_new_tokens=self.max_new_tokens,
            min_new_tokens=self.min_new_tokens or None,
        )
        if config.pad_token_id is None and tokenizer is not None:
            config.pad_token_id = tokenizer.pad_token_id
        return config


def move_inputs(inputs: Any, device: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    """Move processor outputs to ``device``; floating tensors (pixel values) take the model dtype."""
    import torch

    out: dict[str, Any] = {}
    for key, value in dict(inputs).items():
        if isinstance(value, torch.Tensor):
            value = value.to(device, dtype=dtype) if value.is_floating_point() else value.to(device)
        out[key] = value
    return out


def new_token_counts(new_tokens: torch.Tensor, eos_ids: Sequence[int]) -> list[int]:
    """Generated tokens per row, up to and including the first EOS (the padding that fills a finished row
    while others go on is not counted); a row without EOS ran to the length limit."""
    import torch

    stop = torch.zeros_like(new_tokens, dtype=torch.bool)
    for eos in eos_ids:
        stop |= new_tokens == eos
    rows = []
    for row_stop in stop:
        hits = torch.nonzero(row_stop)
        rows.append(int(hits[0, 0]) + 1 if len(hits) else int(row_stop.numel()))
    return rows


def finish_reasons(new_tokens: torch.Tensor, eos_ids: Sequence[int], max_new_tokens: int) -> list[str | None]:
    """Why each row stopped: "stop" (it produced an EOS), "length" (it ran to ``max_new_tokens`` without
    one), None when neither can be told (no EOS, yet fewer new tokens than the limit)."""
    import torch

    stop = torch.zeros_like(new_tokens, dtype=torch.bool)
    for eos in eos_ids:
        stop |= new_tokens == eos
    ended = stop.any(dim=1).tolist()
    at_limit = new_tokens.shape[1] >= max_new_tokens
    return ["stop" if hit else "length" if at_limit else None for hit in ended]


def eos_ids(config: Any) -> list[int]:
    """The EOS ids of a generation config as a list (it may hold an int, a list or None)."""
    value = config.eos_token_id
    if value is None:
        return []
    return [int(value)] if isinstance(value, int) else [int(v) for v in value]


# ---------------------------------------------------------------- a loaded local model


@dataclass
class Generated:
    """What one batch of generation gave: decoded new text, token counts and finish reasons per row
    (:func:`finish_reasons`), and the wall time."""

    texts: list[str]
    prompt_tokens: list[int]
    completion_tokens: list[int]
    seconds: float
    finish_reasons: list[str | None]

    def responses(self) -> list[Response]:
        """One response per row: its text, token usage and finish reason, the wall time shared evenly."""
        per_sample = self.seconds / len(self.texts)
        return [
            Response(
                text=text,
                latency_s=per_sample,
                usage={"prompt_tokens": prompt, "completion_tokens": completion},
                finish_reason=reason,
            )
            for text, prompt, completion, reason in zip(
                self.texts, self.prompt_tokens, self.completion_tokens, self.finish_reasons, strict=True
            )
        ]


class LocalGenerator:
    """A loaded image-text model and its processor: encode batches (left padding), generate greedily and
    decode only the new tokens, or read next-token logits for scoring."""

    def __init__(self, model: Any, processor: Any, device: torch.device, dtype: torch.dtype) -> None:
        self.model = model
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.device = device
        self.dtype = dtype

    def encode(self, texts: Sequence[str], images: Sequence[Sequence[Any]]) -> dict[str, Any]:
        """Processor outputs for a batch (one list of PIL images per text), left padded, on the device."""
        self.tokenizer.padding_side = "left"
        kwargs: dict[str, Any] = {"text": list(texts), "padding": True, "return_tensors": "pt"}
        if any(images):
            kwargs["images"] = [list(group) for group in images]
        inputs = self.processor(**kwargs)
        return move_inputs(inputs, self.device, self.dtype)

    def encode_isolating(
        self, texts: Sequence[str], images: Sequence[Sequence[Any]], ids: Sequence[str]
    ) -> tuple[list[int], dict[str, Any] | None, dict[int, str]]:
        """Encode a batch; when that fails, find the rows that fail on their own.

        Returns ``(kept_rows, inputs_for_kept_rows, {row: error})``, so one image the processor rejects
        (too small, odd mode) costs one sample, not the batch.
        """
        try:
            return list(range(len(texts))), self.encode(texts, images), {}
        except Exception as batch_exc:
            if len(texts) == 1:
                return [], None, {0: f"cannot preprocess sample {ids[0]}: {_short(batch_exc)}"}
        errors: dict[int, str] = {}
        for row in range(len(texts)):
            try:
                self.encode(texts[row : row + 1], images[row : row + 1])
            except Exception as exc:
                errors[row] = f"cannot preprocess sample {ids[row]}: {_short(exc)}"
        kept = [row for row in range(len(texts)) if row not in errors]
        if not kept:
            return [], None, errors
        # the rows that encode alone but not together point at a processor limit, not at one sample
        inputs = self.encode([texts[r] for r in kept], [images[r] for r in kept])
        return kept, inputs, errors

    def generate(self, inputs: dict[str, Any], greedy: GreedySettings) -> Generated:
        """Greedy generation for an encoded batch; decode only the tokens after the prompt."""
        import torch

        config = greedy.generation_config(self.model, self.tokenizer)
        start = time.perf_counter()
        with torch.inference_mode():
            sequences = self.model.generate(**inputs, generation_config=config)
        seconds = time.perf_counter() - start
        prompt_len = inputs["input_ids"].shape[1]
        new_tokens = sequences[:, prompt_len:].cpu()
        texts = [t.strip() for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
        eos = eos_ids(config)
        completion = new_token_counts(new_tokens, eos)
        prompt = [int(n) for n in inputs["attention_mask"].sum(dim=1).tolist()]
        return Generated(
            texts=texts,
            prompt_tokens=prompt,
            completion_tokens=completion,
            seconds=seconds,
            finish_reasons=finish_reasons(new_tokens, eos, greedy.max_new_tokens),
        )

    def last_logits(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, float]:
        """Next-token logits after each (left-padded) prompt, as float32 on the CPU, with the wall time."""
        import torch

        start = time.perf_counter()
        with torch.inference_mode():
            try:
                out = self.model(**inputs, logits_to_keep=1)
            except TypeError:  # a model whose forward has no logits_to_keep
                out = self.model(**inputs)
        logits = out.logits[:, -1, :].float().cpu()
        return logits, time.perf_counter() - start


def _short(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
