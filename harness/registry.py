"""One small generic registry for tasks and models.

Entries are registered by decorator or as lazy ``"module:attr"`` strings; third-party packages add their
own through the entry-point groups ``spotfake.tasks`` and ``spotfake.models`` (each entry point names a
callable that is called once with no arguments and registers what it brings). Unknown names get a
"did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model_kind import check_model_entry

T = TypeVar("T")


LEGACY_TOP_LEVEL = ("harness", "adapters", "tasks", "leaderboard")
"""Import names spotfake used before it installed under one ``spotfake`` namespace: a target such as
``tasks.readers.loki:read_loki`` in a user's task YAML still resolves (to ``spotfake.tasks...``)."""


def import_object(target: str) -> Any:
    """Import ``"package.module:attr"``; raise SpotfakeError naming the target when it does not exist."""
    module_name, _, attr = target.partition(":")
    if module_name.split(".")[0] in LEGACY_TOP_LEVEL:
        module_name = f"spotfake.{module_name}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpotfakeError(f"cannot import {module_name!r} for {target!r}: {exc}") from None
    if not attr:
        return module
    try:
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise SpotfakeError(f"{module_name!r} has no attribute {attr!r} (from {target!r})") from None
    return obj


@dataclass
class Entry(Generic[T]):
    """A registered object with its metadata; ``target`` is resolved on first use."""

    name: str
    target: T | str
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def load(self) -> T:
        """The registered object, importing it the first time it is needed."""
        if isinstance(self.target, str):
            self.target = import_object(self.target)
        return self.target  # type: ignore[return-value]


class Registry(Generic[T]):
    """Name -> entry, with lazy loading, entry-point plugins, wildcards and typo suggestions."""

    def __init__(
        self, kind: str, entry_point_group: str, check: Callable[[Entry[T]], None] | None = None
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.check = check
        """Called with an entry when it is registered and again when its lazy target is first loaded; it
        may refuse the entry (SpotfakeError) or complete its metadata."""
        self._entries: dict[str, Entry[T]] = {}
        self._plugins_loaded = False
        """Set only once every plugin hook has run (or one failed): until then other threads wait."""
        self._plugins_loading = False
        self._plugin_error: SpotfakeError | None = None
        self._lock = threading.RLock()

    def register(
        self,
        name: str,
        target: T | str | None = None,
        *,
        description: str = "",
        replace: bool = False,
        **meta: Any,
    ) -> Callable[[T], T] | None:
        """Register ``target`` under ``name``; without a target, return a decorator.

        Registering a name twice is an error unless ``replace`` is set, so two plugins cannot silently
        shadow each other.
        """

        def add(obj: T | str) -> None:
            if name in self._entries and not replace:
                raise SpotfakeError(f"{self.kind} {name!r} is already registered")
            entry: Entry[T] = Entry(name=name, target=obj, description=description, meta=dict(meta))
            if self.check is not None:
                self.check(entry)
            self._entries[name] = entry

        if target is not None:
            add(target)
            return None

        def decorator(obj: T) -> T:
            add(obj)
            return obj

        return decorator

    def _load_plugins(self) -> None:
        """Run every entry-point hook once per process, thread-safely: a thread that asks while another
        is loading waits for the whole registry (a web server's first two requests must not see it half
        filled); a hook that asks the registry itself sees what is registered so far. A plugin that failed
        to load fails every later lookup with the same error, never a silently partial registry."""
        if not self._plugins_loaded:
            with self._lock:
                if not (self._plugins_loaded or self._plugins_loading):
                    self._plugins_loading = True
                    try:
                        self._run_plugin_hooks()
                    except SpotfakeError as exc:
                        self._plugin_error = exc
                    finally:
                        self._plugins_loading = False
                        self._plugins_loaded = True
        if self._plugin_error is not None:
            raise self._plugin_error

    def _run_plugin_hooks(self) -> None:
        for ep in sorted(
            entry_points(group=self.entry_point_group), key=lambda e: (e.name != "builtin", e.name)
        ):
            try:
                hook = ep.load()
                hook()
            except SpotfakeError as exc:
                raise SpotfakeError(f"{self.kind} plugin {ep.name!r} ({ep.value}): {exc}") from exc
            except Exception as exc:  # a broken plugin gets one clear line, not a traceback
                raise SpotfakeError(
                    f"cannot load {self.kind} plugin {ep.name!r} ({ep.value}): {type(exc).__name__}: {exc}"
                ) from exc

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style pattern, sorted."""
        self._load_plugins()
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def entry(self, name: str) -> Entry[T]:
        """The entry for ``name``; raise SpotfakeError with the closest names when it is unknown."""
        self._load_plugins()
        if name not in self._entries:
            close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise SpotfakeError(f"unknown {self.kind} {name!r}{hint} (see `spotfake list {self.kind}s`)")
        return self._entries[name]

    def get(self, name: str) -> T:
        """The registered object for ``name`` (checked again once its lazy target is imported)."""
        entry = self.entry(name)
        obj = entry.load()
        if self.check is not None:
            self.check(entry)
        return obj

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        self._load_plugins()
        return iter([self._entries[n] for n in sorted(self._entries)])


TASKS: Registry[Any] = Registry("task", "spotfake.tasks")
SUITES: Registry[Any] = Registry("suite", "spotfake.suites")
"""Named sets of tasks (:mod:`harness.suites`)."""
MODELS: Registry[Any] = Registry("model", "spotfake.models", check=check_model_entry)
"""Models; each entry's ``meta['kind']`` is its one kind (:func:`harness.model_kind.check_model_entry`)."""
