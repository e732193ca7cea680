"""A vote: what it says, how its JSON line reads, and whether the task has what it names (pure code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from spotfake.harness.errors import SpotfakeError

WINNERS = ("a", "b", "tie", "both_bad")
FIELDS = ("task", "sample_id", "model_a", "model_b", "winner", "voter", "time")
MAX_TEXT = 200
MAX_SAMPLE_ID = 500


@dataclass(frozen=True)
class Vote:
    """One human judgement: on ``sample_id`` of ``task``, explanation A (``model_a``) against B."""

    task: str
    sample_id: str
    model_a: str
    model_b: str
    winner: str
    voter: str
    time: datetime

    @property
    def pair(self) -> tuple[str, str]:
        """The two models in sorted order: a voter votes once per (sample, pair), whatever the order."""
        lo, hi = sorted((self.model_a, self.model_b))
        return lo, hi

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """(voter, task, sample, model, model): what must be unique."""
        return (self.voter, self.task, self.sample_id, *self.pair)

    def to_json(self) -> dict[str, str]:
        """The JSON line of this vote (time as ISO-8601 UTC)."""
        return {
            "task": self.task,
            "sample_id": self.sample_id,
            "model_a": self.model_a,
            "model_b": self.model_b,
            "winner": self.winner,
            "voter": self.voter,
            "time": self.time.astimezone(timezone.utc).isoformat(),
        }


def _text(obj: Mapping[str, object], key: str, where: str, limit: int) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpotfakeError(f"{where}: {key!r} must be a non-empty string")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise SpotfakeError(f"{where}: {key!r} must be at most {limit} printable characters")
    return value


def parse_time(value: object, where: str) -> datetime:
    """An ISO-8601 time (a naive one is read as UTC), as an aware UTC datetime."""
    if not isinstance(value, str):
        raise SpotfakeError(f"{where}: 'time' must be an ISO-8601 string, e.g. 2026-01-31T12:00:00+00:00")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SpotfakeError(f"{where}: 'time' {value[:40]!r} is not an ISO-8601 time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        return when.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+05:00 is a time before year 1 in UTC
        raise SpotfakeError(
            f"{where}: 'time' {value[:40]!r} is out of range in UTC (years 1 to 9999)"
        ) from None


def vote_from_json(obj: object, where: str) -> Vote:
    """A vote from one JSON object; one-line SpotfakeError naming ``where`` and the field otherwise."""
    if not isinstance(obj, dict):
        raise SpotfakeError(f"{where}: expected a JSON object with {', '.join(FIELDS)}")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise SpotfakeError(f"{where}: unknown field {unknown[0]!r} (a vote has {', '.join(FIELDS)})")
    winner = obj.get("winner")
    if winner not in WINNERS:
        raise SpotfakeError(f"{where}: 'winner' must be one of {', '.join(WINNERS)}, got {winner!r}")
    vote = Vote(
        task=_text(obj, "task", where, MAX_TEXT),
        sample_id=_text(obj, "sample_id", where, MAX_SAMPLE_ID),
        model_a=_text(obj, "model_a", where, MAX_TEXT),
        model_b=_text(obj, "model_b", where, MAX_TEXT),
        winner=str(winner),
        voter=_text(obj, "voter", where, MAX_TEXT),
        time=parse_time(obj.get("time"), where),
    )
    if vote.model_a == vote.model_b:
        raise SpotfakeError(
            f"{where}: model_a and model_b are both {vote.model_a!r}; a vote compares two models"
        )
    return vote


@dataclass
class TaskCatalog:
    """What one task offers the arena: its sample ids and, per contestant (a run, see
    :func:`leaderboard.arena.catalog.contestant_id`), the samples it explained."""

    samples: set[str] = field(default_factory=set)
    explained: dict[str, dict[str, tuple[str | None, str]]] = field(default_factory=dict)
    """contestant -> sample id -> (verdict, explanation)."""
    display: dict[str, str] = field(default_factory=dict)
    """contestant -> the run's display name (what votes of earlier versions named it by)."""

    def resolve(self, name: str, task: str, where: str) -> str:
        """The contestant ``name`` stands for: itself, or the one run whose display name it is (votes of
        earlier versions); one line when it names no run or several."""
        if name in self.explained:
            return name
        runs = sorted(c for c, shown in self.display.items() if shown == name and c in self.explained)
        if len(runs) == 1:
            return runs[0]
        if runs:
            raise SpotfakeError(
                f"{where}: model {name!r} names {len(runs)} runs on task {task} ({'; '.join(runs)}); "
                "name one of them"
            )
        known = "; ".join(sorted(self.explained))
        raise SpotfakeError(f"{where}: model {name!r} has no run on task {task} (models: {known})")


@dataclass
class Catalog:
    """Tasks by name (see :func:`leaderboard.arena.catalog.load_catalog`)."""

    tasks: dict[str, TaskCatalog] = field(default_factory=dict)

    def _task(self, vote: Vote, where: str) -> TaskCatalog:
        task = self.tasks.get(vote.task)
        if task is None:
            known = ", ".join(sorted(self.tasks)) or "none"
            raise SpotfakeError(
                f"{where}: task {vote.task!r} has no explanations on this board (tasks: {known})"
            )
        return task

    def check(self, vote: Vote, where: str) -> None:
        """Refuse a vote for a task, contestant or sample the board does not have (one line naming
        ``where``)."""
        task = self._task(vote, where)
        for model in (vote.model_a, vote.model_b):
            if model not in task.explained:
                task.resolve(model, vote.task, where)  # says why: unknown, or a display name of several
                raise SpotfakeError(f"{where}: model {model!r} is a display name; name the run")
        if vote.sample_id not in task.samples:
            raise SpotfakeError(f"{where}: task {vote.task} has no sample {vote.sample_id!r}")

    def resolve(self, vote: Vote, where: str) -> Vote:
        """``vote`` with its models as contestants (a display name naming one run is read as that run,
        as votes of earlier versions name them), checked as :meth:`check` does."""
        task = self._task(vote, where)
        a, b = (task.resolve(m, vote.task, where) for m in (vote.model_a, vote.model_b))
        if a == b:
            raise SpotfakeError(f"{where}: model_a and model_b are both {a!r}; a vote compares two models")
        resolved = replace(vote, model_a=a, model_b=b)
        self.check(resolved, where)
        return resolved
