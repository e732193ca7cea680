"""Small helpers every expert shares: an image-size argument, and the verdict text from p(fake) at a
threshold (the adapter itself is :class:`~spotfake.adapters.experts.expert.ExpertAdapter`)."""

from __future__ import annotations

from spotfake.adapters.model_args import int_arg

FAKE_TEXT = "This is a fake image."
REAL_TEXT = "This is a real image."


def parse_size(owner: str, value: str | int | None, key: str) -> int | None:
    """An image size in pixels, or None for ``none``/``0``/empty (keep the image as it is)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none", "0", "no", "off"}):
        return None
    size = int_arg(owner, key, value, minimum=0)
    return size or None


def verdict_text(p_fake: float, threshold: float) -> str:
    """The short answer text for p(fake) at ``threshold`` (p >= threshold means fake)."""
    return FAKE_TEXT if p_fake >= threshold else REAL_TEXT
