"""Audits kept in spotfake's cache, one file per (task, data fingerprint, arguments), so that
``spotfake run`` can warn about a flagged task without reading its images again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import atomic_write_json, cache_root
from spotfake.harness.task import LoadedTask


def audit_path(task: LoadedTask) -> Path:
    """Where the audit of ``task`` (its data and arguments) is kept."""
    identity = json.dumps(
        {"data": task.data_fingerprint, "args": {k: str(v) for k, v in sorted(task.args.items())}},
        sort_keys=True,
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    safe = task.spec.name.replace("/", "__").replace("\\", "__")
    return cache_root() / "audits" / f"{safe}-{digest}.json"


def save_audit(task: LoadedTask, audit: dict[str, Any]) -> Path:
    """Keep ``audit`` for ``task`` (atomically); returns the file. A cache that cannot be written is one
    line naming it and ``SPOTFAKE_CACHE``."""
    path = audit_path(task)
    try:
        atomic_write_json(path, audit)
    except OSError as exc:
        raise SpotfakeError(
            f"cannot keep the audit in {path.parent} ({exc.strerror or exc}); set SPOTFAKE_CACHE to a "
            "writable folder"
        ) from None
    return path


def cached_audit(task: LoadedTask) -> dict[str, Any] | None:
    """The kept audit of ``task``, or None when it was never audited (or the file is unreadable)."""
    from spotfake.harness.jsonio import read_json_strict

    path = audit_path(task)
    if not path.is_file():
        return None
    try:
        data = read_json_strict(path, what="audit file")
    except SpotfakeError:
        return None
    if isinstance(data, dict) and data.get("data_fingerprint") == task.data_fingerprint:
        return data
    return None


def audit_entry(audit: dict[str, Any]) -> dict[str, Any]:
    """What ``results.json['audit']`` records of an audit: its version, the baseline AUC and the flag."""
    return {
        "version": audit.get("version"),
        "format_only_auc": audit.get("format_only_auc"),
        "flagged": bool(audit.get("flagged")),
        "per_class_limit": audit.get("per_class_limit"),
    }
