"""Entry-point plugins load once per process, thread-safely: the leaderboard server's first requests run
in parallel threads, and one of them must never see a half-filled registry (it showed "task 'demo' is
not registered" for the life of the server). A broken plugin fails every lookup with one clear line."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from spotfake.harness import registry as registry_module
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import Registry


@dataclass
class FakeEntryPoint:
    """What ``importlib.metadata.entry_points`` yields, for a hook the test defines."""

    name: str
    value: str
    hook: Any

    def load(self) -> Any:
        return self.hook


def _with_plugins(monkeypatch: pytest.MonkeyPatch, *points: FakeEntryPoint) -> None:
    monkeypatch.setattr(registry_module, "entry_points", lambda group: list(points))


def test_a_second_thread_waits_for_the_whole_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks: Registry[Any] = Registry("task", "test.tasks")
    started = threading.Event()
    calls = []

    def slow_builtin() -> None:
        calls.append(1)
        started.set()
        time.sleep(0.5)  # the first thread is still loading when the second one asks
        tasks.register("demo", "spotfake.tasks:__name__")

    _with_plugins(monkeypatch, FakeEntryPoint("builtin", "x:builtin", slow_builtin))
    seen: dict[str, bool] = {}
    first = threading.Thread(target=lambda: seen.setdefault("first", "demo" in tasks))
    first.start()
    assert started.wait(10)
    seen["second"] = "demo" in tasks  # without the lock: False, and the board cached that answer
    first.join(10)
    assert seen == {"first": True, "second": True}
    assert calls == [1]  # the hooks ran once


def test_a_hook_that_asks_the_registry_sees_what_is_registered_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tasks: Registry[Any] = Registry("task", "test.tasks")
    during: list[list[str]] = []

    def builtin() -> None:
        tasks.register("a", "spotfake.tasks:__name__")
        during.append(tasks.names())  # re-entrant: no deadlock, no second load

    _with_plugins(monkeypatch, FakeEntryPoint("builtin", "x:builtin", builtin))
    assert tasks.names() == ["a"]
    assert during == [["a"]]


def test_a_broken_plugin_fails_every_lookup_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks: Registry[Any] = Registry("task", "test.tasks")

    def builtin() -> None:
        tasks.register("demo", "spotfake.tasks:__name__")

    def broken() -> None:
        raise KeyError("config")

    _with_plugins(
        monkeypatch,
        FakeEntryPoint("zz-broken", "broken_pkg:hook", broken),
        FakeEntryPoint("builtin", "x:builtin", builtin),
    )
    for _ in range(2):  # not only the first lookup: never a silently partial registry after it
        with pytest.raises(SpotfakeError) as caught:
            _ = "demo" in tasks
        message = str(caught.value)
        assert message == "cannot load task plugin 'zz-broken' (broken_pkg:hook): KeyError: 'config'"
        assert "\n" not in message
