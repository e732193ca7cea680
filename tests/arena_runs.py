"""Result folders for the arena's tests: committed demo runs, with the baselines turned into explaining
language models (the arena leaves fixed sentences out, so the committed baselines are no contestants).

A turned run keeps its model name, arguments and fingerprint (so its contestant id is the committed one),
says ``kind: lmm``, and each answer gets a second sentence naming the model and the sample's position, so
its text says more than its verdict and no two runs wrote the same text.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMITTED = REPO_ROOT / "results" / "reproduced"
MODELS = ("fakevlm-demo", "always-fake", "random")


def explaining_copy(src: Path, dest: Path) -> Path:
    """A copy of the run folder ``src`` whose model is a language model with a sentence of its own per
    sample (its verdicts unchanged)."""
    shutil.copytree(src, dest)
    results = json.loads((dest / "results.json").read_text(encoding="utf-8"))
    results["model"]["kind"] = "lmm"
    (dest / "results.json").write_text(json.dumps(results), encoding="utf-8")
    name = results["model"]["name"]
    rows = [json.loads(line) for line in (dest / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    for k, row in enumerate(rows):
        if isinstance(row.get("response"), str):
            row["response"] += f" {name} looked at sample {k} and the texture in its corner {k % 7}."
    (dest / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return dest


def explaining_results(root: Path, models: Sequence[str] = MODELS) -> Path:
    """``root/reproduced/<model>/demo`` for each of ``models``: fakevlm-demo as committed, the others
    turned into explaining runs; returns ``root``."""
    for model in models:
        src, dest = COMMITTED / model / "demo", root / "reproduced" / model / "demo"
        if model == "fakevlm-demo":
            shutil.copytree(src, dest)
        else:
            explaining_copy(src, dest)
    return root
