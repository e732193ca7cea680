"""One identity per run: :class:`RunIdentity` owns the run key, the folder path, the display name and
reading all three back from a results file.

A run is one (model name and arguments, task identity, perturbation). Its folder is
``<output-dir>/<model>[@<args>]/<task>[@<task args>][@<perturbation>]/``: runs of one adapter with other
``--model-args`` (another seed, checkpoint or API model) get folders of their own, so none overwrites
another's ``results.json``. The folder name is readable (``random@seed=1``, ``openai@model=gpt-4o``);
values that are paths or URLs, or that name secrets, are left out of the readable part and a short hash of
all the arguments is added, so two different argument sets never share a folder and no secret is ever
written into a path. The same holds for ``--task-args`` that differ from the task's defaults (another
split, compression or verdict parser: ``loki-judgment@parser=loki``).

The run key hashes what changes a prediction: the model's fingerprint (name, settings, weights), the task
identity (name, version, data fingerprint, arguments) and the perturbation. The verdict parser's version is
not in it: verdicts are derived from the responses whenever a run is scored
(:mod:`harness.scoring.verdicts`), so a new parser re-scores a run without predicting it again.
The display name is the model folder followed by the task folder's suffix (``random@seed=1@split=val``),
computed from what ``results.json`` records, so the board, reports and robustness tables agree.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotfake.harness.errors import SpotfakeError

if TYPE_CHECKING:
    from spotfake.harness.perturb import Perturbation
    from spotfake.harness.results_contract import Results, TaskEntry
    from spotfake.harness.task import LoadedTask

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


def non_default_args(defaults: Mapping[str, object], args: Mapping[str, object]) -> dict[str, object]:
    """The arguments of ``args`` that a task's ``defaults`` do not already say (compared as text)."""
    return {k: v for k, v in args.items() if k not in defaults or str(defaults[k]) != str(v)}


def _safe(name: str) -> str:
    """A name usable as one path component (path separators made safe)."""
    return name.replace("/", "__").replace("\\", "__")


MAX_FOLDER_NAME = 120
"""Longer task folder names (a long perturbation chain) keep their start and end in a hash of the whole;
file systems refuse names over 255 bytes. ``results.json`` keeps the full spec."""


def _capped(name: str) -> str:
    """``name``, or its first characters and a hash of all of it when it is longer than a folder allows."""
    if len(name) <= MAX_FOLDER_NAME:
        return name
    return f"{name[: MAX_FOLDER_NAME - 17]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _hash16(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TaskIdentity:
    """What was asked, of which data: name, version, data fingerprint, arguments (and the task's defaults,
    which the folder name leaves out)."""

    name: str
    version: str
    data_fingerprint: str
    args: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, object] | None = None
    """The task's default arguments; None when unknown (a task given as a YAML file that is not registered
    here): names then show no task arguments."""

    @classmethod
    def of(cls, task: LoadedTask) -> TaskIdentity:
        """The identity of a loaded task."""
        return cls(
            name=task.spec.name,
            version=task.spec.version,
            data_fingerprint=task.data_fingerprint,
            args={k: str(v) for k, v in task.args.items()},
            defaults=dict(task.spec.args),
        )

    @classmethod
    def from_entry(cls, entry: TaskEntry | Mapping[str, Any]) -> TaskIdentity:
        """The identity a ``results.json['task']`` entry records (defaults from the task registry)."""
        from spotfake.harness.registry import TASKS

        name = str(entry.get("name", ""))
        defaults: Mapping[str, object] | None = entry.get("default_args")
        if defaults is None:  # written before results recorded them: the registry's, when it knows the task
            try:
                defaults = dict(TASKS.get(name).args)
            except SpotfakeError:  # a task given as a YAML file, or a plugin that is not installed here
                defaults = None
        args = entry.get("args") or {}
        return cls(
            name=name,
            version=str(entry.get("version", "")),
            data_fingerprint=str(entry.get("data_fingerprint", "")),
            args={str(k): str(v) for k, v in args.items()},
            defaults=defaults,
        )

    def key_fields(self) -> dict[str, Any]:
        """The task's part of the run key (and of a launch signature)."""
        return {
            "task": self.name,
            "version": self.version,
            "data": self.data_fingerprint,
            "args": dict(sorted(self.args.items())),
        }

    def folder_name(self) -> str:
        """``<task>``, or ``<task>@<slug>`` of the arguments that differ from the task's defaults."""
        slug = args_slug({} if self.defaults is None else non_default_args(self.defaults, self.args))
        return f"{_safe(self.name)}@{slug}" if slug else _safe(self.name)

    def entry(self, answer_kind: str, n: int) -> dict[str, Any]:
        """``results.json['task']``."""
        return {
            "name": self.name,
            "version": self.version,
            "data_fingerprint": self.data_fingerprint,
            "answer_kind": answer_kind,
            "args": dict(self.args),
            "default_args": {k: str(v) for k, v in (self.defaults or {}).items()},
            "n": n,
        }


@dataclass(frozen=True)
class RunIdentity:
    """One run: the model (name, arguments, fingerprint once known), the task identity, the perturbation.

    ``model_args`` are the arguments as given (they name the folder); ``fingerprint`` is the model's
    (:meth:`harness.model.Model.fingerprint`), needed only for :attr:`key`.
    """

    model: str
    task: TaskIdentity
    model_args: Mapping[str, object] = field(default_factory=dict)
    perturbation: Perturbation | None = None
    fingerprint: str | None = None
    recorded_slug: str = ""
    """The perturbation's slug as a results file records it, when its spec cannot be read here."""

    @classmethod
    def of(
        cls,
        model: str,
        model_args: Mapping[str, object],
        task: LoadedTask,
        perturbation: Perturbation | None = None,
    ) -> RunIdentity:
        """The identity of running ``model`` with ``model_args`` on a loaded task."""
        return cls(model, TaskIdentity.of(task), dict(model_args), perturbation)

    @classmethod
    def named(cls, model: str, task: str) -> RunIdentity:
        """A run known by its model and task names alone (no arguments): ``<model>/<task>``."""
        return cls(model, TaskIdentity(name=task, version="", data_fingerprint="", defaults={}))

    @classmethod
    def from_results(cls, results: Results | Mapping[str, Any]) -> RunIdentity:
        """The identity a results file records (its model arguments as recorded, URLs without secrets)."""
        from spotfake.harness.perturb import parse_perturbation

        model = results.get("model") or {}
        recorded: Mapping[str, Any] = results.get("perturbation") or {}
        try:
            perturbation = parse_perturbation(str(recorded["spec"])) if "spec" in recorded else None
        except SpotfakeError:  # a perturbation this version does not know: keep the recorded slug
            perturbation = None
        return cls(
            model=str(model.get("name", "")),
            task=TaskIdentity.from_entry(results.get("task") or {}),
            model_args=dict(model.get("args") or {}),
            perturbation=perturbation,
            fingerprint=model.get("fingerprint"),
            recorded_slug="" if perturbation is not None else str(recorded.get("slug", "")),
        )

    def with_fingerprint(self, fingerprint: str) -> RunIdentity:
        """This identity once the model's fingerprint is known."""
        return replace(self, fingerprint=fingerprint)

    @property
    def key(self) -> str:
        """The run key: the records of a folder are reused only under the same key."""
        if self.fingerprint is None or self.recorded_slug:
            raise SpotfakeError(
                f"run of {self.model!r} on {self.task.name!r}: its key needs the model's fingerprint and a "
                "perturbation spec this version can read"
            )
        clean = _hash16({"model": self.fingerprint, **self.task.key_fields()})
        if self.perturbation is None:
            return clean
        return _hash16({"run_key": clean, "perturbation": self.perturbation.spec})

    def launch_fields(self) -> dict[str, Any]:
        """What a launch signature hashes besides the model's name, arguments and code (no fingerprint:
        the launch index exists to know the key without building the model)."""
        fields = self.task.key_fields()
        return {
            "name": fields["task"],
            "version": fields["version"],
            "data": fields["data"],
            "args": fields["args"],
            "perturbation": self.perturbation_slug,
        }

    @property
    def perturbation_slug(self) -> str:
        """``jpeg75``, ``resize0.5+jpeg75``, or "" for the clean images."""
        from spotfake.harness.perturb import perturbation_slug

        return perturbation_slug(self.perturbation) or self.recorded_slug

    @property
    def model_folder(self) -> str:
        """``<model>`` or ``<model>@<args slug>``."""
        slug = args_slug(self.model_args)
        return f"{_safe(self.model)}@{slug}" if slug else _safe(self.model)

    @property
    def task_folder(self) -> str:
        """``<task>[@<task args>][@<perturbation>]``."""
        base = self.task.folder_name()
        slug = self.perturbation_slug
        return _capped(f"{base}@{slug}") if slug else base

    @property
    def is_plain(self) -> bool:
        """A run on the clean images with the task's default arguments (what the arena compares)."""
        return self.task_folder == _safe(self.task.name)

    def folder(self, output_dir: Path) -> Path:
        """The run folder under ``output_dir``."""
        return output_dir / self.model_folder / self.task_folder

    def display_name(self, *, with_perturbation: bool = True) -> str:
        """The model name, its arguments' slug and the task folder's suffix: ``random@seed=1``,
        ``npr@split=val@jpeg75``;
        what tables, legends and curves show. Curves over perturbations leave the perturbation out."""
        suffix = self.task.folder_name()[len(_safe(self.task.name)) :]
        if with_perturbation and self.perturbation_slug:
            suffix += f"@{self.perturbation_slug}"
        slug = args_slug(self.model_args)
        return self.model + (f"@{slug}" if slug else "") + suffix
