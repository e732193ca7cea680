"""Which runs explained which samples, read from result folders (``results.json`` + ``samples.jsonl``).

A contestant is a run, never a display name: :func:`contestant_id` joins the run's display name (model,
arguments), its source (``reproduced``, ``submitted``) and its run key (model fingerprint and settings, task
identity), so a submission named like a committed model, or a run of one adapter with other
``--model-args``, is a contestant of its own and cannot take another's place. Only runs that explain are
contestants (:mod:`.explaining`: a language model whose text says more than its verdict).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.run_identity import RunIdentity
from spotfake.leaderboard.arena.explaining import explanations
from spotfake.leaderboard.arena.votes import MAX_TEXT, Catalog, TaskCatalog

KEY_CHARS = 12


def _run_key(identity: RunIdentity, model: Mapping[str, Any]) -> str:
    """The run key, or (results written without a model fingerprint) a hash of what the file records of
    the model and the task."""
    try:
        return identity.key
    except SpotfakeError:
        payload = {"model": identity.model, "args": {k: str(v) for k, v in identity.model_args.items()},
                   "settings": model.get("settings"), **identity.task.key_fields()}  # fmt: skip
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def contestant_id(results: Mapping[str, Any]) -> str:
    """``<display name> (<source> <run key, 12 hex>)``: the arena's name of the run ``results`` records,
    e.g. ``fakevlm-demo (reproduced 5f1c0d2a9b3e)``; at most :data:`votes.MAX_TEXT` characters."""
    identity = RunIdentity.from_results(results)
    source = " ".join(str(results.get("source", "")).split())[:20] or "unknown"
    suffix = f" ({source} {_run_key(identity, results.get('model') or {})[:KEY_CHARS]})"
    return identity.display_name()[: MAX_TEXT - len(suffix)] + suffix


def _explanations(samples_path: Path) -> tuple[set[str], dict[str, tuple[str | None, str]]]:
    """(every recorded id, id -> (verdict, explanation) of the records with text and no error)."""
    from spotfake.harness.io import iter_jsonl

    explained: dict[str, tuple[str | None, str]] = {}
    ids: set[str] = set()
    for _, row in iter_jsonl(samples_path):
        sid = row.get("id")
        if not isinstance(sid, str):
            continue
        ids.add(sid)
        text = row.get("response")
        if row.get("error") is None and isinstance(text, str) and text.strip():
            verdict = row.get("verdict")
            explained[sid] = (verdict if isinstance(verdict, str) else None, text)
    return ids, explained


def load_catalog(roots: Sequence[Path | None]) -> Catalog:
    """The arena catalog of every run below ``roots`` that has per-sample records.

    A run's task is ``results.json['task']['name']``; runs with other task arguments, perturbed runs and
    reported rows are left out. A run's explanations are its records with text and without error, kept
    only when the run explains (:func:`.explaining.explanations`: a language model, text that says more
    than the verdict, no repeated single sentence); every recorded id counts as a sample of the task. A contestant found twice (the same run copied) keeps the
    first folder: ``results/`` before ``runs/``, then path order.
    """
    from spotfake.harness.io import read_json
    from spotfake.leaderboard.scan import results_files

    catalog = Catalog()
    for root in roots:
        if root is None or not root.is_dir():
            continue
        for results_path in map(Path, sorted(results_files(root))):
            samples_path = results_path.parent / "samples.jsonl"
            if not samples_path.is_file():
                continue
            try:
                results = read_json(results_path)
                task_name = str(results["task"]["name"])
                identity = RunIdentity.from_results(results)
                if results.get("source") == "reported" or not identity.is_plain:
                    continue
                cid = contestant_id(results)
                task = catalog.tasks.setdefault(task_name, TaskCatalog())
                if cid in task.display:
                    continue
                ids, explained = _explanations(samples_path)
                explained = explanations(str(results["model"].get("kind", "")), explained)
            except (SpotfakeError, KeyError, TypeError, AttributeError):
                continue  # the board shows unreadable folders; the arena just leaves them out
            task.samples |= ids
            task.display[cid] = identity.display_name()
            if explained:
                task.explained[cid] = explained
    for name in [n for n, t in catalog.tasks.items() if len(t.explained) < 2]:
        del catalog.tasks[name]
    return catalog
