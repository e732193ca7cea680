"""What a submitter says about their model: a description, the paper, the code, a contact, the licence
and its parameter count. Stored in the submission's ``provenance.metadata``; the board shows the paper
(its Paper link), the code, the licence and the description; a declared count becomes the stored
``model.parameters``, shown as declared. Untrusted text: plain, bounded, links only http(s).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from spotfake.harness.errors import SpotfakeError

FIELDS: dict[str, int] = {
    "description": 500,
    "paper": 300,
    "code": 300,
    "contact": 200,
    "licence": 100,
    "parameters": 20,
}
"""Each field and its longest value, in characters."""
LINKS = ("paper", "code")
"""Fields that must be http(s) links."""
SHOWN = ("description", "paper", "code", "licence")
"""Fields the board shows as text (the contact is kept for the maintainers; the parameter count is shown
in the Overview's Params column)."""
DECLARED = "declared by the submitter (not measured by the board)"
"""The note beside a submission's parameter count."""


def _count(value: str) -> str:
    digits = value.replace(",", "").replace("_", "")
    if not digits.isdigit():
        raise SpotfakeError(f"parameters: {value[:30]!r} is not a whole number; give one such as 7100000000")
    return str(int(digits))


def _link(field: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise SpotfakeError(
            f"{field}: {value[:80]!r} is not an http(s) link; give one such as https://arxiv.org/abs/2503.14905"
        )
    return value


def clean_metadata(values: Mapping[str, object]) -> dict[str, str]:
    """The given fields, whitespace-trimmed, empty ones dropped; one line naming the field for an unknown
    field, a value that is not text, too long, holds control characters, or a link that is not http(s)."""
    out: dict[str, str] = {}
    for field, raw in values.items():
        if field not in FIELDS:
            raise SpotfakeError(f"unknown submission field {field!r} (fields: {', '.join(FIELDS)})")
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise SpotfakeError(f"{field}: expected text")
        value = raw.strip()
        if not value:
            continue
        if len(value) > FIELDS[field]:
            raise SpotfakeError(f"{field}: {len(value)} characters, at most {FIELDS[field]}")
        if any(ord(c) < 32 and c not in "\n\t" for c in value) or ("\n" in value and field != "description"):
            raise SpotfakeError(f"{field}: control characters or line breaks are not allowed")
        out[field] = (
            _link(field, value) if field in LINKS else _count(value) if field == "parameters" else value
        )
    return out


def shown_metadata(results: Mapping[str, object]) -> dict[str, str]:
    """The fields of a stored submission the board shows (empty for other rows or a malformed block)."""
    provenance = results.get("provenance")
    block = provenance.get("metadata") if isinstance(provenance, Mapping) else None
    if not isinstance(block, Mapping):
        return {}
    out = {}
    for field in SHOWN:
        value = block.get(field)
        if isinstance(value, str) and value and len(value) <= FIELDS[field]:
            if field in LINKS:
                try:
                    value = _link(field, value)
                except SpotfakeError:
                    continue
            out[field] = value
    return out
