"""Architecture configs of the expert zoo: the published architecture, unless a stored config overrides
some of its keys, as a retrained or scaled-down variant needs. :func:`architecture_config` reads
``<weights stem>.json`` beside the checkpoint; the config a training output stores with its weights is
read by :func:`~spotfake.adapters.experts.checkpoints.read_config` and merged here by
:func:`merge_config`. The authors' files need none; an unknown key or another architecture's config is
refused."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict


def merge_config(
    defaults: Mapping[str, Any], stored: Mapping[str, Any] | None, arch: str, where: str
) -> dict:
    """The architecture config: published defaults overridden by the config stored with the weights.

    A stored config for another architecture, or with keys the architecture does not know, is refused.
    """
    config = dict(defaults)
    if not stored:
        return config
    stored_arch = stored.get("arch")
    if stored_arch is not None and stored_arch != defaults.get("arch"):
        raise SpotfakeError(
            f"{where}: these weights are for arch {stored_arch!r}, not {arch!r}; use --model {stored_arch}"
        )
    unknown = sorted(set(stored) - set(defaults))
    if unknown:
        raise SpotfakeError(f"{where}: unknown config keys {unknown} for {arch} (known: {sorted(defaults)})")
    config.update(stored)
    return config


def architecture_config(weights: Path, defaults: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """``defaults`` (with ``"arch": arch``) updated from ``<weights stem>.json`` when that file exists."""
    side = weights.with_suffix(".json")
    if side == weights or not side.is_file():
        return dict(defaults)
    stored = loads_strict(side.read_text(encoding="utf-8"), where=f"JSON config {side}")
    if not isinstance(stored, dict):
        raise SpotfakeError(f"{side}: an architecture config must be a JSON object")
    return merge_config(defaults, stored, arch, str(side))
