"""``--model-args`` values arrive as strings: convert them with one clear line per mistake.

No torch here, so API adapters use these without loading it.
"""

from __future__ import annotations

from collections.abc import Sequence

from spotfake.harness.errors import SpotfakeError


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
