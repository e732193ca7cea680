"""Where a run lives on disk: ``<output-dir>/<model>[@<args>]/<task>[@<task args>][@<perturbation>]/``.

Runs of one adapter with other ``--model-args`` (another seed, another checkpoint, another API model) get
folders of their own, so none overwrites another's ``results.json`` and every one shows on the board. The
folder name is readable (``random@seed=1``, ``openai@model=gpt-4o``); values that are paths or URLs, or
that name secrets, are left out of the readable part and a short hash of all the arguments is added, so
two different argument sets never share a folder and no secret is ever written into a path. The same
holds for ``--task-args`` that differ from the task's defaults (another split, compression or verdict
parser: ``loki-judgment@parser=loki``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from spotfake.harness.errors import SpotfakeError

PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
"""A model name usable as one folder name (the same rule as submissions)."""
_SECRET_KEY = re.compile(r"key|token|secret|passw|auth|cred", re.IGNORECASE)
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._+-]{1,40}$")
MAX_SLUG = 80


def check_plain_name(name: str, *, option: str = "--model-name") -> str:
    """Return ``name`` if it is a plain model name (letters, digits, ``._+-``), else a one-line error."""
    if not PLAIN_NAME.match(name) or name in (".", ".."):
        raise SpotfakeError(
            f"{option} {name!r} is not a plain name: use letters, digits and . _ + - "
            "(up to 100 characters, starting with a letter or digit)"
        )
    return name


def args_slug(args: Mapping[str, object]) -> str:
    """The readable, unique folder suffix of ``--model-args`` ('' when there are none)."""
    if not args:
        return ""
    parts = []
    hidden = False
    for key in sorted(args):
        value = str(args[key])
        if _SECRET_KEY.search(key) or not _SAFE_VALUE.match(key):
            hidden = True
        elif _SAFE_VALUE.match(value):
            parts.append(f"{key}={value}")
        else:
            name = re.split(r"[/\\]", value.rstrip("/\\"))[-1]
            hidden = True
            if _SAFE_VALUE.match(name) and "://" not in value and "@" not in value and "?" not in value:
                parts.append(f"{key}={name}")
    slug = ",".join(parts)
    if hidden or len(slug) > MAX_SLUG:
        exact = json.dumps({k: str(v) for k, v in sorted(args.items())}, sort_keys=True)
        digest = hashlib.sha256(exact.encode()).hexdigest()[:8]
        slug = f"{slug[:MAX_SLUG]}-{digest}" if slug else digest
    return slug


def model_folder(name: str, args: Mapping[str, object]) -> str:
    """``<model>`` or ``<model>@<args slug>`` (path separators in a registry name made safe)."""
    base = name.replace("/", "__").replace("\\", "__")
    slug = args_slug(args)
    return f"{base}@{slug}" if slug else base


def run_folder(output_dir: Path, model_name: str, args: Mapping[str, object], task_folder: str) -> Path:
    """The folder of one (model, model arguments, task[@perturbation]) run."""
    safe_task = task_folder.replace("/", "__").replace("\\", "__")
    return output_dir / model_folder(model_name, args) / safe_task


def non_default_args(defaults: Mapping[str, object], args: Mapping[str, object]) -> dict[str, object]:
    """The arguments of ``args`` that a task's ``defaults`` do not already say (compared as text)."""
    return {k: v for k, v in args.items() if k not in defaults or str(defaults[k]) != str(v)}


def task_folder(name: str, defaults: Mapping[str, object], args: Mapping[str, object]) -> str:
    """``<task>``, or ``<task>@<slug>`` of the task arguments that differ from the task's defaults."""
    slug = args_slug(non_default_args(defaults, args))
    base = name.replace("/", "__").replace("\\", "__")
    return f"{base}@{slug}" if slug else base
