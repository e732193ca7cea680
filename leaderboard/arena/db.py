"""The votes table and the engine: SQLite (WAL, busy timeout, immediate write transactions) by default,
any SQLAlchemy URL (PostgreSQL tested) for a hosted board."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Index, Integer, String, UniqueConstraint, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DEFAULT_DB = Path("runs") / "arena.sqlite3"
BUSY_TIMEOUT_S = 60.0


class Base(DeclarativeBase):
    """Declarative base of the arena's tables."""


class VoteRow(Base):
    """One stored vote. ``pair_lo``/``pair_hi`` are the two models sorted, so that one voter votes once
    per (task, sample, pair) whatever the order the pair was shown in."""

    __tablename__ = "arena_votes"
    __table_args__ = (
        UniqueConstraint("voter", "task", "sample_id", "pair_lo", "pair_hi", name="arena_one_vote"),
        Index("arena_votes_task", "task"),
        Index("arena_votes_voter_time", "voter", "created"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(200))
    sample_id: Mapped[str] = mapped_column(String(500))
    model_a: Mapped[str] = mapped_column(String(200))
    model_b: Mapped[str] = mapped_column(String(200))
    pair_lo: Mapped[str] = mapped_column(String(200))
    pair_hi: Mapped[str] = mapped_column(String(200))
    winner: Mapped[str] = mapped_column(String(10))
    voter: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the vote was cast (as given in an imported line)."""
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When it was stored (the rate limit counts these)."""


def database_url(value: str | Path | None) -> str:
    """A SQLAlchemy URL from ``--db``/``--arena-db``: a URL as given, else a SQLite file path."""
    text = str(value) if value is not None else str(DEFAULT_DB)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, as IMMEDIATE
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # a write lock taken up front: a deferred transaction that reads then writes fails at once with
        # "database is locked" when another writer got in between, whatever the busy timeout
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the arena's table created if absent."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        _sqlite_setup(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    return engine
