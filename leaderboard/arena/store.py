"""Storing votes: one at a time from the arena tab (rate-limited), or a JSONL file at once (all or
nothing), and reading them back.

Every write is one transaction. An import checks every line first (fields, the catalog, duplicates in
the file and in the database) and writes nothing when a line is refused; the unique constraint is the
last word when two writers race for the same vote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, func, insert, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from spotfake.harness.errors import SpotfakeError
from spotfake.leaderboard.arena.db import VoteRow, database_url, make_engine
from spotfake.leaderboard.arena.voters import NAME_MARK, voter_key
from spotfake.leaderboard.arena.votes import Catalog, Vote, vote_from_json

RATE_LIMIT = (20, 60.0)
"""At most this many votes per voter key (a browser, whatever names it types) per this many seconds,
through the tab."""


class ArenaStore:
    """The votes database at ``url`` (see :func:`leaderboard.arena.db.database_url`)."""

    def __init__(
        self,
        url: str | Path | None = None,
        rate_limit: tuple[int, float] = RATE_LIMIT,
        *,
        create: bool = True,
    ) -> None:
        self.url = database_url(url)
        self.rate_limit = rate_limit
        try:
            self.engine: Engine = make_engine(self.url, write=create)
        except (SQLAlchemyError, ImportError, OSError) as exc:
            raise SpotfakeError(f"cannot open the arena database: {_short(exc)}") from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def add_vote(self, vote: Vote, catalog: Catalog, now: datetime | None = None) -> None:
        """Store one vote from the tab: checked, one per voter key per (sample, pair), rate-limited per
        voter key (:func:`leaderboard.arena.voters.voter_key`: the name a voter types changes neither)."""
        catalog.check(vote, "vote")
        now = now or datetime.now(timezone.utc)
        limit, window = self.rate_limit
        same_voter = _same_voter(vote.voter)
        lo, hi = vote.pair
        with Session(self.engine) as session, session.begin():
            recent = session.scalar(
                select(func.count())
                .select_from(VoteRow)
                .where(same_voter, VoteRow.created > now - timedelta(seconds=window))
            )
            if (recent or 0) >= limit:
                raise SpotfakeError(f"vote refused: at most {limit} votes per {window:g} s; wait a moment")
            voted = session.scalar(
                select(VoteRow.id).where(
                    same_voter, VoteRow.task == vote.task, VoteRow.sample_id == vote.sample_id,
                    VoteRow.pair_lo == lo, VoteRow.pair_hi == hi,
                ).limit(1)
            )  # fmt: skip
            if voted is not None:
                raise SpotfakeError("vote refused: this voter already voted on this sample and pair")
            session.add(_row(vote, now))  # the unique index refuses a second vote on the same pair
            try:
                session.flush()
            except IntegrityError:
                raise SpotfakeError(
                    "vote refused: this voter already voted on this sample and pair"
                ) from None

    def import_file(self, path: Path, catalog: Catalog) -> int:
        """Import a JSONL file of votes in one transaction; refuse the whole file at its first bad line."""
        from spotfake.harness.jsonio import iter_json_lines

        if not path.is_file():
            raise SpotfakeError(f"votes file not found: {path}")
        votes: list[Vote] = []
        lines: dict[tuple[str, str, str, str, str], int] = {}
        for number, obj in iter_json_lines(path, what="votes file"):
            where = f"{path} line {number}"
            vote = catalog.resolve(vote_from_json(obj, where), where)
            if vote.key in lines:
                raise SpotfakeError(
                    f"{where}: duplicate vote (same voter, sample and pair as line {lines[vote.key]})"
                )
            lines[vote.key] = number
            votes.append(vote)
        return self.import_votes(votes, where_of=lambda v: f"{path} line {lines[v.key]}")

    def import_votes(self, votes: Sequence[Vote], where_of: object = None) -> int:
        """Insert checked votes in one transaction; a vote already stored refuses them all."""
        now = datetime.now(timezone.utc)
        try:
            with Session(self.engine) as session, session.begin():
                clash = self._existing(session, votes)
                if clash is not None:
                    where = where_of(clash) if callable(where_of) else "vote"
                    raise SpotfakeError(f"{where}: duplicate vote (already stored); nothing was imported")
                if votes:
                    session.execute(insert(VoteRow), [_values(v, now) for v in votes])
        except IntegrityError:
            raise SpotfakeError(
                "duplicate vote (stored meanwhile by another writer); nothing was imported"
            ) from None
        except OperationalError as exc:
            raise SpotfakeError(f"arena database error, nothing was imported: {_short(exc)}") from None
        return len(votes)

    def _existing(self, session: Session, votes: Sequence[Vote]) -> Vote | None:
        """The first of ``votes`` already stored (same voter, task, sample and pair), or None."""
        if len(votes) <= 8:  # a few votes: exact look-ups on the unique index
            for vote in votes:
                voter, task, sample, lo, hi = vote.key
                stored = session.scalar(
                    select(VoteRow.id).where(
                        VoteRow.voter == voter, VoteRow.task == task, VoteRow.sample_id == sample,
                        VoteRow.pair_lo == lo, VoteRow.pair_hi == hi,
                    )
                )  # fmt: skip
                if stored is not None:
                    return vote
            return None
        wanted = {v.key: v for v in votes}
        by_task: dict[str, set[str]] = {}
        for voter, task, *_ in wanted:
            by_task.setdefault(task, set()).add(voter)
        for task, voters in by_task.items():
            for chunk in _chunks(sorted(voters), 500):
                query = select(
                    VoteRow.voter, VoteRow.task, VoteRow.sample_id, VoteRow.pair_lo, VoteRow.pair_hi
                ).where(VoteRow.task == task, VoteRow.voter.in_(chunk))
                for row in session.execute(query):
                    found = wanted.get(tuple(row))  # type: ignore[arg-type]
                    if found is not None:
                        return found
        return None

    def votes(self, task: str | None = None) -> list[Vote]:
        """Stored votes (of ``task``, or all), in storage order."""
        query = select(VoteRow).order_by(VoteRow.id)
        if task is not None:
            query = query.where(VoteRow.task == task)
        with Session(self.engine) as session:
            return [_vote(row) for row in session.scalars(query)]

    def voted_keys(self, voter: str, task: str) -> set[tuple[str, str, str]]:
        """(sample, model, model) already voted on by ``voter``'s key in ``task``, under any name."""
        query = select(VoteRow.sample_id, VoteRow.pair_lo, VoteRow.pair_hi).where(
            _same_voter(voter), VoteRow.task == task
        )
        with Session(self.engine) as session:
            return {(s, lo, hi) for s, lo, hi in session.execute(query)}

    def pair_counts(self, task: str) -> dict[tuple[str, str], int]:
        """Votes per (model, model) pair, sorted, in ``task``."""
        query = (
            select(VoteRow.pair_lo, VoteRow.pair_hi, func.count())
            .where(VoteRow.task == task)
            .group_by(VoteRow.pair_lo, VoteRow.pair_hi)
        )
        with Session(self.engine) as session:
            return {(lo, hi): int(n) for lo, hi, n in session.execute(query)}

    def migrate(self, catalog: Catalog) -> tuple[list[str], list[str]]:
        """Rename, in one transaction, the models of stored votes that earlier versions named by display
        name to the one run (contestant) of that name in ``catalog``; names that match no run or several
        are left as stored. Returns (names mapped, names left)."""
        mapped: list[str] = []
        left: list[str] = []
        with Session(self.engine) as session, session.begin():
            for task_name, task in catalog.tasks.items():
                names = set()
                for column in (VoteRow.pair_lo, VoteRow.pair_hi):
                    names |= set(session.scalars(select(column).where(VoteRow.task == task_name).distinct()))
                for name in sorted(names - set(task.explained)):
                    runs = [c for c, shown in task.display.items() if shown == name and c in task.explained]
                    if len(runs) != 1:
                        left.append(name)
                        continue
                    (mapped if _rename(session, task_name, name, runs[0]) else left).append(name)
        return mapped, left

    def count(self) -> int:
        """Number of stored votes."""
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(VoteRow)) or 0)


def _same_voter(voter: str) -> ColumnElement[bool]:
    """Rows of ``voter``'s key, whatever name follows it."""
    key = voter_key(voter)
    return or_(VoteRow.voter == key, VoteRow.voter.startswith(key + NAME_MARK, autoescape=True))


def _rename(session: Session, task: str, old: str, new: str) -> bool:
    """Every vote of ``task`` naming model ``old`` names ``new`` instead (its sorted pair recomputed),
    except a vote whose voter already voted on the renamed pair (kept as stored). True when all moved."""
    rows = list(
        session.scalars(
            select(VoteRow).where(VoteRow.task == task, or_(VoteRow.model_a == old, VoteRow.model_b == old))
        )
    )
    complete = True
    for row in rows:
        a = new if row.model_a == old else row.model_a
        b = new if row.model_b == old else row.model_b
        lo, hi = sorted((a, b))
        clash = session.scalar(
            select(VoteRow.id).where(
                VoteRow.voter == row.voter, VoteRow.task == task, VoteRow.sample_id == row.sample_id,
                VoteRow.pair_lo == lo, VoteRow.pair_hi == hi,
            )
        )  # fmt: skip
        if clash is not None or a == b:
            complete = False
            continue
        row.model_a, row.model_b, row.pair_lo, row.pair_hi = a, b, lo, hi
        session.flush()
    return complete


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _values(vote: Vote, now: datetime) -> dict[str, object]:
    lo, hi = vote.pair
    return {
        "task": vote.task, "sample_id": vote.sample_id, "model_a": vote.model_a, "model_b": vote.model_b,
        "pair_lo": lo, "pair_hi": hi, "winner": vote.winner, "voter": vote.voter, "time": vote.time,
        "created": now,
    }  # fmt: skip


def _row(vote: Vote, now: datetime) -> VoteRow:
    return VoteRow(**_values(vote, now))


def _vote(row: VoteRow) -> Vote:
    when = row.time if row.time.tzinfo is not None else row.time.replace(tzinfo=timezone.utc)
    return Vote(row.task, row.sample_id, row.model_a, row.model_b, row.winner, row.voter, when)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
