"""Shared pieces of the local and remote LMM adapters.

``--model-args`` conversion with clear errors, device and dtype choice (cuda > mps > cpu, bf16 where the
card supports it), model loading with a readable failure, greedy generation settings, decoding of the new
tokens only, and batching that halves a batch which runs out of GPU memory. torch is imported inside the
functions that need it, so the API adapter can use the argument helpers without it.
"""

from __future__ import annotations

import copy
import gc
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.errors import SpotfakeError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

DTYPE_NAMES: dict[str, str] = {
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
    "half": "float16",
    "fp32": "float32",
    "float32": "float32",
    "float": "float32",
}


# ---------------------------------------------------------------- --model-args conversion


def int_arg(owner: str, key: str, value: str | int, *, minimum: int | None = None) -> int:
    """Read an integer ``--model-args`` value; a non-integer or one below ``minimum`` is a SpotfakeError."""
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise SpotfakeError(f"{owner}: --model-args {key}={value!r}: expected an integer") from None
    if minimum is not None and number < minimum:
        raise SpotfakeError(f"{owner}: --model-args {key}={value!r}: must be at least {minimum}")
    return number


def float_arg(owner: str, key: str, value: str | float, *, minimum: float | None = None) -> float:
    """Read a number ``--model-args`` value; a non-number or one below ``minimum`` is a SpotfakeError."""
    try:
        number = float(value) if not isinstance(value, str) else float(value.strip())
    except ValueError:
        raise SpotfakeError(f"{owner}: --model-args {key}={value!r}: expected a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SpotfakeError(f"{owner}: --model-args {key}={value!r}: expected a finite number")
    if minimum is not None and number < minimum:
        raise SpotfakeError(f"{owner}: --model-args {key}={value!r}: must be at least {minimum}")
    return number


def choice_arg(owner: str, key: str, value: str, choices: Sequence[str]) -> str:
    """Read a ``--model-args`` value that must be one of ``choices`` (case-insensitive)."""
    lowered = str(value).strip().lower()
    if lowered not in choices:
        raise SpotfakeError(f"{owner}: --model-args {key}={value!r}: expected one of {', '.join(choices)}")
    return lowered


# ---------------------------------------------------------------- device and dtype


def choose_device(requested: str | None = None) -> torch.device:
    """The device to run on: ``requested`` if given (``cuda``, ``cuda:1``, ``mps``, ``cpu``), else the best
    available one (cuda > mps > cpu). Under torchrun / accelerate launch, ``cuda`` means this process's
    ``cuda:$LOCAL_RANK``. An unavailable device is a SpotfakeError."""
    import os

    import torch

    name = (requested or "auto").strip().lower()
    if name in ("", "auto"):
        if torch.cuda.is_available():
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SpotfakeError(
            f"--model-args device={requested!r}: expected auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SpotfakeError(
                f"--model-args device={requested!r}: CUDA is not available here; use device=cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SpotfakeError(
                f"--model-args device={requested!r}: only {torch.cuda.device_count()} CUDA device(s) visible"
            )
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise SpotfakeError(
                f"--model-args device={requested!r}: MPS is not available here; use device=cpu"
            )
    elif device.type != "cpu":
        raise SpotfakeError(f"--model-args device={requested!r}: expected auto, cpu, cuda, cuda:N or mps")
    return device


def choose_dtype(requested: str | None, device: torch.device) -> torch.dtype:
    """The weights dtype: ``requested`` (bf16/bfloat16, fp16/float16, fp32/float32) or, for ``auto``,
    bf16 on a CUDA card that supports it (fp16 on older cards), fp16 on MPS and fp32 on CPU."""
    import torch

    name = (requested or "auto").strip().lower()
    if name in ("", "auto"):
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "mps":
            return torch.float16
        return torch.float32
    if name not in DTYPE_NAMES:
        raise SpotfakeError(f"--model-args dtype={requested!r}: expected auto, bfloat16, float16 or float32")
    return getattr(torch, DTYPE_NAMES[name])


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` -> ``"bfloat16"``."""
    return str(dtype).removeprefix("torch.")


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
) -> tuple[Any, Any]:
    """Load a model (from ``path``) and its processor (from ``processor_path``, default ``path``) onto
    ``device`` in ``dtype``, in eval mode; a loading failure becomes one SpotfakeError line naming the
    path and the fix."""
    import transformers

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
            f"{owner}: cannot load the processor from {source!r}: {_first_line(exc)} (hub ids need a "
            "connection or a cached copy; a checkpoint without tokenizer/processor files needs "
            "processor=<folder or hub id of its base model>)"
        ) from None
    try:
        model = model_cls.from_pretrained(path, **{dtype_key: dtype}, device_map=str(device))
    except (OSError, ValueError, KeyError) as exc:
        raise SpotfakeError(
            f"{owner}: cannot load model from {path!r}: {_first_line(exc)} (pass path=<local folder with "
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


def eos_ids(config: Any) -> list[int]:
    """The EOS ids of a generation config as a list (it may hold an int, a list or None)."""
    value = config.eos_token_id
    if value is None:
        return []
    return [int(value)] if isinstance(value, int) else [int(v) for v in value]


# ---------------------------------------------------------------- batching


def is_oom(exc: BaseException) -> bool:
    """True for a GPU (CUDA or MPS) out-of-memory error."""
    import torch

    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def release_memory() -> None:
    """Free cached allocator memory after an out-of-memory error."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        mps.empty_cache()


class HalvingBatcher:
    """Runs items through a batch function ``batch_size`` at a time; a batch that runs out of GPU memory
    is halved and retried (down to one item), and the smaller size is kept for later calls."""

    def __init__(self, batch_size: int, *, oom_check: Callable[[BaseException], bool] = is_oom) -> None:
        self.batch_size = batch_size
        self.current = batch_size
        self._oom_check = oom_check

    def run(self, items: Sequence[T], fn: Callable[[Sequence[T]], list[R]]) -> list[R]:
        """``fn`` over consecutive chunks of ``items``; results concatenated in order. Errors other than
        out-of-memory, and out-of-memory at one item, propagate."""
        out: list[R] = []
        start = 0
        while start < len(items):
            chunk = items[start : start + self.current]
            try:
                results = fn(chunk)
            except Exception as exc:
                if not self._oom_check(exc) or len(chunk) == 1:
                    raise
                del exc
                release_memory()
                self.current = max(1, len(chunk) // 2)
                log.warning("out of memory at batch size %d; retrying at %d", len(chunk), self.current)
                continue
            if len(results) != len(chunk):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(chunk)} items")
            out.extend(results)
            start += len(chunk)
        return out


def sorted_order(keys: Sequence[Any]) -> list[int]:
    """Indices that sort ``keys`` (stable), used to batch similar prompt lengths together."""
    return sorted(range(len(keys)), key=lambda i: keys[i])


def timed(fn: Callable[[], R]) -> tuple[R, float]:
    """Call ``fn`` and return its result with the wall time in seconds."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# ---------------------------------------------------------------- a loaded local model


@dataclass
class Generated:
    """What one batch of generation gave: decoded new text and token counts per row, and the wall time."""

    texts: list[str]
    prompt_tokens: list[int]
    completion_tokens: list[int]
    seconds: float


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
        completion = new_token_counts(new_tokens, eos_ids(config))
        prompt = [int(n) for n in inputs["attention_mask"].sum(dim=1).tolist()]
        return Generated(texts=texts, prompt_tokens=prompt, completion_tokens=completion, seconds=seconds)

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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _short(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
