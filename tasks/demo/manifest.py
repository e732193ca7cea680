"""The demo set's manifest: sha256 of every file, and checking a folder against it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict

MANIFEST_NAME = "manifest.json"
FORMAT = "spotfake-demo-manifest/1"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(root: Path) -> list[str]:
    """Every file under ``root`` except the manifest, as sorted POSIX paths relative to ``root``."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != MANIFEST_NAME
    )


def write_manifest(root: Path, *, seed: int, profile: str) -> Path:
    """Hash every file under ``root`` into ``root/manifest.json``."""
    files = {rel: sha256_file(root / rel) for rel in list_files(root)}
    manifest = {"format": FORMAT, "algorithm": "sha256", "seed": seed, "profile": profile, "files": files}
    path = root / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    """Load and check a manifest file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpotfakeError(f"manifest not found: {path}; build the set with `spotfake demo build`") from None
    data = loads_strict(text, where=f"manifest {path}")
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise SpotfakeError(f"{path} is not a demo manifest (expected format {FORMAT!r})")
    return data


@dataclass
class Verification:
    """The outcome of checking a folder against a manifest."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed)


def verify(root: Path, manifest_path: Path | None = None) -> Verification:
    """Recompute the hash of every file under ``root`` and compare with the manifest (default: root's own)."""
    manifest = read_manifest(manifest_path or root / MANIFEST_NAME)
    expected: dict[str, str] = manifest["files"]
    present = set(list_files(root)) if root.is_dir() else set()
    result = Verification()
    result.missing = sorted(set(expected) - present)
    result.extra = sorted(present - set(expected))
    for rel in sorted(set(expected) & present):
        result.checked += 1
        if sha256_file(root / rel) != expected[rel]:
            result.changed.append(rel)
    return result
