"""The run folder's launch index: a cached run needs no model and no re-scoring.

A run key hashes the model's fingerprint, which needs the model built (settings, weights hash). Building
six models to learn that every prediction is already recorded is most of a cached run's time, so after
each run the folder remembers, under a *launch signature*, the run key and model identity it found:

    signature = hash(model name, --model-args, the factory, the task's identity, the perturbation,
                     name/size/mtime of every file under each local path given in --model-args,
                     the hub's ref of each hub id given, and of every file of the factory's package and
                     of spotfake itself)

Any change to the arguments, to weights on disk, to the adapter's code or its committed weights, or to
spotfake changes the signature; a miss only means the model is built and its real fingerprint computed, so
the index can make a run faster but never reuse records of other settings. The index also remembers the
sha256 of the ``results.json`` it wrote and a hash of the scoring settings: when both still match, a run
with nothing left to predict keeps that file as it is instead of scoring again. The model identity it
remembers includes the parameter count measured when the model was built, so a cached run records it too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.io import atomic_write_json
from spotfake.harness.jsonio import loads_strict, read_bytes_strict, read_json_strict
from spotfake.harness.results import RESULTS_FILE, ModelInfo

INDEX_FILE = ".spotfake-launches.json"
MAX_ENTRIES = 32
MAX_FILES = 20_000
"""A local path argument with more files than this disables the index for that run (too slow to stat)."""
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _tree_stamp(root: Path, digest: Any, budget: list[int]) -> None:
    """Feed name, size and mtime of every regular file under ``root`` (no hidden, no __pycache__)."""
    if root.is_file():
        st = root.stat()
        digest.update(f"{root.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            budget[0] -= 1
            if budget[0] < 0:
                raise OverflowError
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except OSError:
                continue
            rel = path.relative_to(root).as_posix()
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())


@lru_cache(maxsize=64)
def _package_stamp(folder: str) -> str:
    digest = hashlib.sha256()
    _tree_stamp(Path(folder), digest, [MAX_FILES * 5])
    return digest.hexdigest()


def _hub_ref(value: str) -> str | None:
    """The cached snapshot revision of a hub id (read from the local hub cache; never downloads)."""
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(Path.home(), ".cache", "huggingface"), "hub"
    )
    refs = Path(hub) / ("models--" + value.replace("/", "--")) / "refs"
    try:
        return ",".join(f"{p.name}={p.read_text().strip()}" for p in sorted(refs.iterdir()) if p.is_file())
    except OSError:
        return None


def launch_signature(
    name: str, args: Mapping[str, str], target: str, task_identity: Mapping[str, Any]
) -> str | None:
    """The signature described in the module docstring (``target`` is the factory's ``module:attr``), or
    None when it would be too slow to compute."""
    digest = hashlib.sha256()
    head = {"name": name, "args": dict(sorted(args.items())), "factory": target, "task": task_identity}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    budget = [MAX_FILES]
    try:
        for key in sorted(args):
            value = str(args[key])
            local = Path(value).expanduser()
            if value and "\x00" not in value and local.exists():
                digest.update(f"\npath {key}\n".encode())
                _tree_stamp(local, digest, budget)
            elif _HUB_ID.match(value):
                digest.update(f"\nhub {key} {_hub_ref(value)}\n".encode())
        for package in sorted({_package_dir(target.split(":")[0]), Path(__file__).resolve().parent}):
            digest.update(f"\ncode {package.name} {_package_stamp(str(package))}\n".encode())
    except (OverflowError, OSError, ValueError, ImportError):
        return None
    return digest.hexdigest()[:24]


def _package_dir(module: str) -> Path:
    """The folder of the top-level package of ``module`` (``spotfake.<folder>`` for spotfake's own), found
    without importing it."""
    parts = module.split(".")
    spec = importlib.util.find_spec(".".join(parts[:2]) if parts[0] == "spotfake" else parts[0])
    if spec is None:
        raise ImportError(module)
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve()
    if spec.origin is None:
        raise ImportError(module)
    return Path(spec.origin).resolve()


def scoring_signature(*parts: object) -> str:
    """A hash of everything that shapes a results file besides the records (options, task spec, n)."""
    plain = [asdict(p) if is_dataclass(p) and not isinstance(p, type) else p for p in parts]
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _read(folder: Path) -> dict[str, Any]:
    path = folder / INDEX_FILE
    if not path.is_file():
        return {}
    try:
        data = read_json_strict(path, what="launch index", max_bytes=2**20)
    except SpotfakeError:
        return {}  # an unreadable index is an empty one: the next run rewrites it
    return data if isinstance(data, dict) else {}


def recall(folder: Path, signature: str | None) -> tuple[ModelInfo, str, dict[str, Any]] | None:
    """``(model identity, run key, entry)`` remembered for ``signature`` in ``folder``, or None."""
    if signature is None:
        return None
    entry = _read(folder).get(signature)
    if not isinstance(entry, dict) or not isinstance(entry.get("run_key"), str):
        return None
    model = entry.get("model")
    types: dict[str, type | tuple[type, ...]] = {
        "name": str,
        "kind": str,
        "args": dict,
        "settings": dict,
        "fingerprint": str,
        "parameters": (int, type(None)),
        "parameters_note": str,
    }
    if not isinstance(model, dict) or set(model) != set(types):
        return None  # an entry of an older spotfake (no parameter count): the model is built once more
    if not all(isinstance(model[k], t) for k, t in types.items()) or isinstance(model["parameters"], bool):
        return None
    return ModelInfo(**model), entry["run_key"], entry


def remember(
    folder: Path,
    signature: str | None,
    info: ModelInfo,
    key: str,
    scoring: str | None,
    *,
    batch_size: int | None = None,
) -> None:
    """Store what ``signature`` resolved to, with the hash of the results file just written."""
    if signature is None:
        return
    entries = _read(folder)
    entries.pop(signature, None)
    results = folder / RESULTS_FILE
    entries[signature] = {
        "run_key": key,
        "model": asdict(info),
        "scoring": scoring,
        "results_sha256": _sha256(results) if results.is_file() else None,
        "batch_size": batch_size,
    }
    atomic_write_json(folder / INDEX_FILE, dict(list(entries.items())[-MAX_ENTRIES:]))


def unchanged_results(folder: Path, entry: Mapping[str, Any], scoring: str) -> object | None:
    """``results.json`` parsed when it is the very file this entry's run wrote, under the same scoring
    settings; else None. The file is read once: the bytes hashed are the bytes parsed."""
    path = folder / RESULTS_FILE
    if entry.get("scoring") != scoring or not entry.get("results_sha256") or not path.is_file():
        return None
    data = read_bytes_strict(path, what="results file")
    if hashlib.sha256(data).hexdigest() != entry["results_sha256"]:
        return None
    return loads_strict(data, where=f"results file {path}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
