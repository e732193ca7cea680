"""Why loading weights failed, in one line: no traceback, and never torch's advice to turn off
``weights_only`` (a checkpoint holding more than tensors is refused, not trusted)."""

from __future__ import annotations

import pickle
import re

_UNPICKLER = re.compile(r"WeightsUnpickler error: ([^\n]*?\.)(?:\s|$)")


def load_errors() -> tuple[type[BaseException], ...]:
    """What loading a checkpoint may raise for a bad or hostile file (as opposed to a bug): missing or
    unreadable files, bad configs, refused pickles, truncated or oversized safetensors, memory."""
    errors: tuple[type[BaseException], ...] = (
        OSError,
        ValueError,
        KeyError,
        RuntimeError,
        MemoryError,
        pickle.UnpicklingError,
    )
    try:
        from safetensors import SafetensorError
    except ImportError:  # pragma: no cover - safetensors is a dependency
        return errors
    return (*errors, SafetensorError)


def unpickler_reason(exc: BaseException) -> str:
    """The refused global named by a ``weights_only`` unpickling error, or a generic reason."""
    match = _UNPICKLER.search(str(exc))
    if match:
        return match.group(1)
    return "not a PyTorch file or holds arbitrary objects"


def load_failure(exc: BaseException) -> str:
    """One line saying why a load failed: the unpickler's refusal, running out of memory, or the first
    line of the message."""
    if isinstance(exc, pickle.UnpicklingError) or "WeightsUnpickler" in str(exc):
        return f"a weights file holds pickled objects other than tensors and was refused ({unpickler_reason(exc)})"
    if isinstance(exc, MemoryError) or "allocate" in str(exc).lower():
        return f"not enough memory for the weights it declares ({_first_line(exc)})"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
