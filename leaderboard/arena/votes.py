"""A vote: what it says, how its JSON line reads, and whether the task has what it names (pure code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    return when.astimezone(timezone.utc)


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
    """What one task offers the arena: its sample ids and, per model, the samples it explained."""

    samples: set[str] = field(default_factory=set)
    explained: dict[str, dict[str, tuple[str | None, str]]] = field(default_factory=dict)
    """model -> sample id -> (verdict, explanation)."""


@dataclass
class Catalog:
    """Tasks by name (see :func:`leaderboard.arena.catalog.load_catalog`)."""

    tasks: dict[str, TaskCatalog] = field(default_factory=dict)

    def check(self, vote: Vote, where: str) -> None:
        """Refuse a vote for a task, model or sample the board does not have (one line naming ``where``)."""
        task = self.tasks.get(vote.task)
        if task is None:
            known = ", ".join(sorted(self.tasks)) or "none"
            raise SpotfakeError(
                f"{where}: task {vote.task!r} has no explanations on this board (tasks: {known})"
            )
        for model in (vote.model_a, vote.model_b):
            if model not in task.explained:
                known = ", ".join(sorted(task.explained))
                raise SpotfakeError(
                    f"{where}: model {model!r} has no run on task {vote.task} (models: {known})"
                )
        if vote.sample_id not in task.samples:
            raise SpotfakeError(f"{where}: task {vote.task} has no sample {vote.sample_id!r}")
