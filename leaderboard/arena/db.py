"""The votes table and the engine: SQLite (WAL, busy timeout, immediate write transactions) by default,
any SQLAlchemy URL (PostgreSQL tested) for a hosted board.

Readers never write: a SQLite file is opened read-only for ``export`` and ``ratings``. Nothing is created
in a database that is not the arena's: a SQLite file with other tables, or a path below a file, is refused
in one line before any connection could change its journal mode.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require

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


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for an in-memory database or another kind of database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _blocker(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that exists but is not a folder (``FILE`` of
    ``FILE/x.sqlite3``), or None."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def _sqlite_tables(path: Path) -> set[str]:
    """The tables of the SQLite file ``path``, read without writing anything (read-only, no journal
    change); one line when it is not a SQLite database."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise SpotfakeError(f"cannot open the arena database {path}: {exc}") from None
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.Error as exc:
        raise SpotfakeError(f"{path} is not a spotfake arena database ({exc}); choose another --db") from None
    finally:
        conn.close()
    return {str(name) for (name,) in rows}


def check_sqlite_file(path: Path, *, write: bool) -> None:
    """Refuse, in one line and before anything is written, a SQLite path the arena must not use: below a
    file, not a regular file, absent when only read, or another application's database (tables, none of
    them the arena's). An empty or absent file is created only by a writer."""
    blocker = _blocker(path)
    if blocker is not None:
        raise SpotfakeError(f"arena database {path}: {blocker} is a file, not a folder; choose another --db")
    if path.exists() and not path.is_file():
        raise SpotfakeError(f"arena database {path} is not a regular file; choose another --db")
    if not path.exists():
        if not write:
            raise SpotfakeError(f"no arena database at {path} (no vote stored yet? see --db)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpotfakeError(f"cannot create the arena database {path}: {exc.strerror or exc}") from None
        return
    tables = _sqlite_tables(path)
    if VoteRow.__tablename__ not in tables and (tables or not write):
        found = f"its tables: {', '.join(sorted(tables))}" if tables else "it has no tables"
        raise SpotfakeError(
            f"{path} is not a spotfake arena database (no {VoteRow.__tablename__} table; {found}); "
            "choose another --db"
        )


def _read_only_sqlite(path: Path) -> Engine:
    """An engine that reads ``path`` and cannot write it (``mode=ro``, no journal-mode change)."""
    uri = f"{path.as_uri()}?mode=ro"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    return create_engine("sqlite://", creator=connect, poolclass=NullPool)


def _check_table(engine: Engine, url: str) -> None:
    """Refuse a database whose ``arena_votes`` table is missing or lacks the arena's columns."""
    table = VoteRow.__tablename__
    inspector = inspect(engine)
    if not inspector.has_table(table):
        raise SpotfakeError(
            f"{make_url(url).render_as_string(hide_password=True)} is not a spotfake arena database (no "
            f"{table} table); choose another --db"
        )
    missing = set(VoteRow.__table__.columns.keys()) - {c["name"] for c in inspector.get_columns(table)}
    if missing:
        raise SpotfakeError(
            f"{make_url(url).render_as_string(hide_password=True)}: its {table} table is not the arena's "
            f"(no column {', '.join(sorted(missing))}); choose another --db"
        )


def make_engine(url: str, *, write: bool = True) -> Engine:
    """An engine for ``url``. A writer creates the arena's table where the database is new or empty; a
    reader (``write=False``) never writes (a SQLite file is opened read-only) and refuses a database
    without the table. A PostgreSQL URL through psycopg needs the ``arena-postgres`` extra (one line
    naming it when absent)."""
    if make_url(url).drivername == "postgresql+psycopg":
        require("psycopg", "arena-postgres", "a PostgreSQL arena database (postgresql+psycopg://...)")
    path = sqlite_file(url)
    if path is not None:
        check_sqlite_file(path, write=write)
    if path is not None and not write:
        engine = _read_only_sqlite(path)
    elif url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        _sqlite_setup(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if write:
        Base.metadata.create_all(engine)
    _check_table(engine, url)
    return engine
