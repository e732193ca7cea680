"""The judge's disk cache: one JSON line per graded explanation, appended and fsync'ed as it arrives.

A key is the sha256 of (judge endpoint, judge model, rubric name and version, prompt sha256, sample id,
response sha256, reference sha256, image shown or not), so the same explanation graded by the same judge
under the same rubric is never sent twice, and any change of judge, rubric, template, answer or reference
asks again. The endpoint is the base URL without its credentials (:func:`harness.redaction.public_url`): one
model name served at two places is two judges. Lines are appended with
one ``write`` on a file opened for appending, so several judge processes can share a cache; a line torn
by a kill is skipped on reading. A grade failure (a reply that was twice not a valid grade) is cached
too (temperature 0 answers the same); transport failures are not, so a rerun retries them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CACHE_FILE = "judge-cache.jsonl"
DEFAULT_RUBRIC = "spotfake"
"""The rubric whose keys carry no name (see :func:`cache_key`); the same as
:data:`harness.judge.rubrics.DEFAULT_RUBRIC`."""


def sha256_text(text: str) -> str:
    """sha256 (hex) of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(
    *,
    endpoint: str,
    judge_model: str,
    rubric_version: str,
    prompt_sha256: str,
    sample_id: str,
    response: str,
    references: Sequence[str],
    image: bool,
    perturbation: str | None = None,
    rubric: str = DEFAULT_RUBRIC,
) -> str:
    """The cache key of one judge request (hex sha256 of its identity, never of secrets: ``endpoint`` is
    the public base URL); a perturbed run's images differ from the clean ones, so its perturbation spec is
    part of the key. The rubric's name is part of it too, except for the default rubric, whose keys stay
    those of versions before rubrics had names (its cached grades remain valid)."""
    identity = [
        endpoint,
        judge_model,
        rubric_version,
        prompt_sha256,
        sample_id,
        sha256_text(response),
        sha256_text(json.dumps(list(references), ensure_ascii=False)),
        bool(image),
    ]
    if perturbation:
        identity.append(perturbation)
    if rubric != DEFAULT_RUBRIC:
        identity.append(f"rubric={rubric}")
    return sha256_text(json.dumps(identity, ensure_ascii=False))


class JudgeCache:
    """Grades by key, loaded from ``folder/judge-cache.jsonl`` and appended to as new grades arrive."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CACHE_FILE
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            with self.path.open("rb") as handle:
                for raw in handle:
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        continue  # a line torn by a kill
                    if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                        self._entries[entry["key"]] = entry

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached entry for ``key``, or None."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store ``entry`` under ``key``: appended as one line and fsync'ed before returning."""
        line = json.dumps({**entry, "key": key}, ensure_ascii=False, allow_nan=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._entries[key] = {**entry, "key": key}
