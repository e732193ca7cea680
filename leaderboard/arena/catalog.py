"""Which models explained which samples, read from result folders (``results.json`` + ``samples.jsonl``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.run_identity import RunIdentity
from spotfake.leaderboard.arena.votes import Catalog, TaskCatalog


def load_catalog(roots: Sequence[Path | None]) -> Catalog:
    """The arena catalog of every run below ``roots`` that has per-sample records.

    A run's task is ``results.json['task']['name']``; perturbed runs (``task@slug`` folders) and reported
    rows are left out. A model's explanations are its records with text and without error; every
    recorded id counts as a sample of the task. Later roots win for a model seen twice.
    """
    from spotfake.harness.io import iter_jsonl, read_json

    catalog = Catalog()
    for root in roots:
        if root is None or not root.is_dir():
            continue
        for results_path in sorted(root.rglob("results.json")):
            folder = results_path.parent
            samples_path = folder / "samples.jsonl"
            if not samples_path.is_file():
                continue
            try:
                results = read_json(results_path)
                task_name = str(results["task"]["name"])
                model = str(results["model"]["name"])
                if not RunIdentity.from_results(results).is_plain:  # other task arguments or perturbed
                    continue
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
            except (SpotfakeError, KeyError, TypeError):
                continue  # the board shows unreadable folders; the arena just leaves them out
            task = catalog.tasks.setdefault(task_name, TaskCatalog())
            task.samples |= ids
            if explained:
                task.explained[model] = explained
    for name in [n for n, t in catalog.tasks.items() if len(t.explained) < 2]:
        del catalog.tasks[name]
    return catalog
