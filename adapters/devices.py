"""Where a local model runs and in what precision, and what to do when its memory runs out.

One device rule for every adapter (LMMs, experts, training): ``auto`` picks cuda > mps > cpu, and under
torchrun / accelerate launch ``cuda`` is this process's ``cuda:$LOCAL_RANK`` (read by
:mod:`harness.distributed`). torch is imported inside the functions.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from spotfake.harness import distributed
from spotfake.harness.errors import SpotfakeError

if TYPE_CHECKING:
    import torch

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
DEVICE_HINT = "expected auto, cpu, cuda, cuda:N or mps"


def choose_device(requested: str | None = None) -> torch.device:
    """The device to run on: ``requested`` if given (``cuda``, ``cuda:1``, ``mps``, ``cpu``), else the best
    available one (cuda > mps > cpu). Under torchrun / accelerate launch, ``auto`` means this process's
    ``cuda:$LOCAL_RANK``. An unavailable device is a SpotfakeError."""
    import torch

    name = (requested or "auto").strip().lower()
    if name in ("", "auto"):
        if torch.cuda.is_available():
            local_rank = distributed.current().local_rank
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SpotfakeError(f"--model-args device={requested!r}: {DEVICE_HINT}") from None
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
        if not _mps_available():
            raise SpotfakeError(
                f"--model-args device={requested!r}: MPS is not available here; use device=cpu"
            )
    elif device.type != "cpu":
        raise SpotfakeError(f"--model-args device={requested!r}: {DEVICE_HINT}")
    return device


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


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
    dtype: torch.dtype = getattr(torch, DTYPE_NAMES[name])
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` -> ``"bfloat16"``."""
    return str(dtype).removeprefix("torch.")


def is_oom(exc: BaseException) -> bool:
    """True for a GPU (CUDA or MPS) out-of-memory error."""
    import torch

    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def release_memory() -> None:
    """Free cached allocator memory (after an out-of-memory error, or when a model is dropped)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and _mps_available():
        mps.empty_cache()
