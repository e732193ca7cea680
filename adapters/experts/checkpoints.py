"""Loading and saving classifier weights safely.

Checkpoints are untrusted input: ``.safetensors`` files are read with safetensors, anything else with
``torch.load(weights_only=True)``, which refuses pickled objects other than tensors and plain containers.
Nothing is ever unpickled with arbitrary classes; the one class a caller may let through is
``argparse.Namespace`` (``allow_namespace=True``: the training options some authors save beside the weights).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pickle
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from spotfake.adapters.load_errors import load_failure, unpickler_reason
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.jsonio import loads_strict

CONFIG_METADATA_KEY = "spotfake_config"
"""safetensors metadata key holding the architecture config as JSON."""

MAX_CHECKPOINT_BYTES = 8 * 2**30
"""The most tensor bytes an expert checkpoint may declare (the authors' ResNet-50 files hold about 100 MB)."""
DTYPE_BYTES = {
    "F64": 8,
    "I64": 8,
    "U64": 8,
    "F32": 4,
    "I32": 4,
    "U32": 4,
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "U16": 2,
}
DTYPE_BYTES.update(dict.fromkeys(("I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"), 1))
"""Bytes per element of safetensors dtypes (any other counts as 8: an overestimate never lets more in)."""

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def load_checkpoint(path: Path, *, allow_namespace: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a checkpoint file into (object, safetensors metadata) without unpickling arbitrary objects.

    The object is a flat ``{name: tensor}`` dict for safetensors, or whatever plain container the
    ``.pth`` file holds (a state dict, or a dict wrapping one under ``"model"``). ``allow_namespace``
    also lets ``argparse.Namespace`` through (the saved training options of a ``utils.save_model`` dict);
    any other pickled class is still refused.
    """
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                metadata = dict(handle.metadata() or {})
                keys = list(handle.keys())
                check_declared_size(path, {key: handle.get_slice(key) for key in keys})
                tensors = {key: handle.get_tensor(key) for key in keys}
        except (SafetensorError, OSError, RuntimeError, MemoryError) as exc:
            raise SpotfakeError(f"cannot read safetensors checkpoint {path}: {load_failure(exc)}") from None
        return tensors, metadata
    allowed = torch.serialization.safe_globals([argparse.Namespace]) if allow_namespace else None
    try:
        with allowed or contextlib.nullcontext():
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise SpotfakeError(
            f"refusing to load {path}: not a plain tensor checkpoint ({unpickler_reason(exc)}); "
            "only state dicts are loaded (weights_only=True); re-save the weights as safetensors"
        ) from None
    except Exception as exc:  # torch.load raises many types (IndexError, RuntimeError, ...) for a bad file
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SpotfakeError(f"cannot read checkpoint {path}: not a PyTorch file ({first})") from None
    return obj, {}


def check_declared_size(path: Path, slices: Mapping[str, Any], limit: int | None = None) -> None:
    """Refuse a safetensors file whose header declares more tensor bytes than ``limit`` (default
    :data:`MAX_CHECKPOINT_BYTES`) before anything is allocated; a sparse file can declare terabytes."""
    limit = MAX_CHECKPOINT_BYTES if limit is None else limit
    sizes = {}
    for key, view in slices.items():
        count = 1
        for dim in view.get_shape():
            count *= int(dim)
        sizes[key] = count * DTYPE_BYTES.get(str(view.get_dtype()).upper(), 8)
    total = sum(sizes.values())
    if total > limit:
        largest = max(sizes, key=sizes.__getitem__)
        raise SpotfakeError(
            f"refusing to load {path}: its header declares {total / 2**30:.1f} GiB of tensors ({largest!r} "
            f"alone {sizes[largest] / 2**30:.1f} GiB), more than an expert checkpoint needs "
            f"({limit / 2**30:.0f} GiB at most); is it the right file?"
        )


def unwrap_state_dict(
    obj: Any, path: Path, wrapper_keys: Iterable[str] = ("model", "state_dict")
) -> dict[str, Any]:
    """The ``{name: tensor}`` dict inside ``obj`` (itself, or under one of ``wrapper_keys``)."""
    if not isinstance(obj, Mapping):
        raise SpotfakeError(f"{path}: expected a state dict, found {type(obj).__name__}")
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj)
    for key in wrapper_keys:
        if key in obj and isinstance(obj[key], Mapping):
            return unwrap_state_dict(obj[key], path, wrapper_keys)
    raise SpotfakeError(
        f"{path}: no state dict found (top-level keys: {sorted(map(str, obj))[:8]}); "
        f"expected tensors, or a dict holding them under one of {list(wrapper_keys)}"
    )


def strip_prefix(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Drop ``prefix`` (e.g. ``"module."`` from DataParallel) from every key that has it."""
    return {(k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in state.items()}


def module_state_dict(obj: Any, path: Path) -> dict[str, Any]:
    """A checkpoint's state dict, unwrapped from ``{"model": ...}``-style containers, without the
    ``module.`` prefix that ``DataParallel`` adds (CNNSpot's and NPR's released layouts)."""
    return strip_prefix(unwrap_state_dict(obj, path), "module.")


def read_config(weights: Path, metadata: Mapping[str, str]) -> dict[str, Any] | None:
    """The architecture config stored with the weights: safetensors metadata, else a JSON file beside them.

    The JSON file is ``<weights stem>.json`` or ``config.json`` in the same folder; None when neither exists
    (an authors' checkpoint, which uses the architecture's published defaults).
    """
    if CONFIG_METADATA_KEY in metadata:
        return _parse_config(metadata[CONFIG_METADATA_KEY], f"{weights} (metadata {CONFIG_METADATA_KEY})")
    for candidate in (weights.with_suffix(".json"), weights.parent / CONFIG_FILE):
        if candidate.is_file() and candidate != weights:
            text = candidate.read_text(encoding="utf-8")
            data = _parse_config(text, str(candidate))
            # The training output's config.json nests the architecture config under "model".
            return data.get("model", data) if isinstance(data.get("model"), dict) else data
    return None


def _parse_config(text: str, where: str) -> dict[str, Any]:
    data = loads_strict(text, where=f"JSON config {where}")
    if not isinstance(data, dict):
        raise SpotfakeError(f"{where}: config must be a JSON object")
    return data


def save_weights(path: Path, state: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> None:
    """Write ``state`` as safetensors with ``config`` (JSON) in the file's metadata."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    metadata = {CONFIG_METADATA_KEY: json.dumps(dict(config), sort_keys=True), "format": "pt"}
    save_file(tensors, str(path), metadata=metadata)


def load_into(
    module: torch.nn.Module,
    state: Mapping[str, torch.Tensor],
    path: Path,
    arch: str,
    *,
    assign: bool = False,
) -> None:
    """``module.load_state_dict(state, strict=True)`` with key and shape errors turned into one clear line
    that lists a few missing and unexpected keys (never ``strict=False``). ``assign``: the module's
    tensors become those of ``state`` (a module built on the meta device, so that a large network is
    never allocated twice)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise SpotfakeError(
            f"{path}: keys do not match the {arch} architecture ({_few(missing, 'missing')}, "
            f"{_few(unexpected, 'unexpected')}); is it a {arch} checkpoint?"
        )
    for key, value in state.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise SpotfakeError(
                f"{path}: {key} has shape {tuple(value.shape)}, the {arch} architecture expects "
                f"{tuple(expected[key].shape)}; does the config match the checkpoint?"
            )
    module.load_state_dict(dict(state), strict=True, assign=assign)


def _few(keys: list[str], what: str, shown: int = 4) -> str:
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return f"{len(keys)} {what} {keys[:shown]}{more}"


CONTAINERS = ("model", "state_dict", "net")
"""Where training code nests a state dict: ``{"model": ...}`` (most), ``{"state_dict": ...}`` (Lightning,
DeepfakeBench), ``{"net": ...}`` (GRIP's loader); a bare state dict needs none."""


def state_dict_from(
    obj: Any,
    path: Path,
    *,
    containers: Sequence[str] = CONTAINERS,
    strip: Sequence[str] = ("module.",),
    renames: Sequence[tuple[str, str]] = (),
) -> dict[str, torch.Tensor]:
    """An authors' checkpoint object as a flat ``{key: tensor}`` dict for strict loading: unwrapped from
    ``containers``, each prefix in ``strip`` dropped (DataParallel's ``module.``), then ``renames``
    (``(old prefix, new prefix)`` pairs, the first that matches a key applies) rewriting key prefixes."""
    state = unwrap_state_dict(obj, path, containers)
    for prefix in strip:
        state = strip_prefix(state, prefix)
    return apply_renames(state, renames) if renames else state


def apply_renames(state: Mapping[str, Any], renames: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Rewrite key prefixes: for each key, the first ``(old, new)`` with ``key.startswith(old)`` applies."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        for old, new in renames:
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out


def require_file(path: str | Path | None, what: str, published: str, arg: str = "path") -> Path:
    """``path`` as an existing file, else one line naming the file and where its authors publish it."""
    if not path:
        raise SpotfakeError(f"no {what} given: pass {arg}=<file>; its authors publish it at {published}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise SpotfakeError(f"{what} not found: {p}; its authors publish it at {published}")
    return p


def unpack_legacy_zip(path: Path, cache: Path) -> Path:
    """The checkpoint inside a zip of exactly one file (the format ``torch.hub.load_state_dict_from_url``
    unpacks, e.g. C2P-CLIP's release), extracted once under ``cache``; any other file is returned as is.
    A modern torch file is a zip too, but of several entries, so it is never mistaken for one."""
    import hashlib
    import zipfile

    if path.suffix.lower() != ".zip" or not zipfile.is_zipfile(path):
        return path
    with zipfile.ZipFile(path) as archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if len(entries) != 1 or len(archive.infolist()) != 1:
            raise SpotfakeError(
                f"{path}: expected a zip holding one checkpoint file, found {len(entries)} files"
            )
        entry = entries[0]
        if entry.file_size > MAX_CHECKPOINT_BYTES:
            raise SpotfakeError(
                f"{path}: its checkpoint unpacks to {entry.file_size / 2**30:.1f} GiB; refusing"
            )
        stat = path.stat()
        key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:24]
        target = cache / "unzipped" / key / Path(entry.filename).name
        if not target.is_file() or target.stat().st_size != entry.file_size:
            import os
            import shutil
            import tempfile

            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as out, archive.open(entry) as source:
                    shutil.copyfileobj(source, out, 1 << 20)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    return target
