"""Architecture configs of the expert zoo: the published architecture, unless a JSON file beside the
checkpoint (``<weights stem>.json``) overrides some of its keys, as a retrained or scaled-down variant
needs. The authors' files need none; an unknown key or another architecture's config is refused."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict

from .base import merge_config


def architecture_config(weights: Path, defaults: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """``defaults`` (with ``"arch": arch``) updated from ``<weights stem>.json`` when that file exists."""
    side = weights.with_suffix(".json")
    if side == weights or not side.is_file():
        return dict(defaults)
    stored = loads_strict(side.read_text(encoding="utf-8"), where=f"JSON config {side}")
    if not isinstance(stored, dict):
        raise SpotfakeError(f"{side}: an architecture config must be a JSON object")
    return merge_config(defaults, stored, arch, str(side))
