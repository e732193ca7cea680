"""Who may submit under a model name: the first accepted submission of a name gets an owner token, and
every later submission under that name (a replacement, or the name on another task) must give it.

The token is shown once, to the submitter; the board keeps only a salted SHA-256 of it, in the table
``submission_owners`` of the board's database (the arena's: :mod:`leaderboard.arena.db` opens it, SQLite
or any SQLAlchemy URL). Tokens are 32 random bytes, so a salted hash is as strong as a slow one here.

A name whose submissions were stored before owner tokens existed has no owner row: nobody can prove
ownership, so nothing is stored under it until the board's maintainers remove the old folders.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, Engine, Integer, String, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from spotfake.harness.errors import SpotfakeError

TOKEN_PREFIX = "sfo_"
"""Owner tokens read ``sfo_<43 characters>`` (recognisable in a password manager or a leak scan)."""


class OwnerError(SpotfakeError):
    """A submission under a name owned by someone else (no token, or another name's token)."""

    def __init__(self, name: str, *, given: bool) -> None:
        self.name = name
        self.given = given
        what = "the owner token given is not this name's" if given else "no owner token was given"
        super().__init__(
            f"the model name {name!r} belongs to whoever first submitted it and {what}; submit with the "
            "owner token received then, or under another model name"
        )


class UnownedLegacyError(SpotfakeError):
    """A name stored before owner tokens existed: nobody can prove ownership of it."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"submissions named {name!r} were stored before owner tokens existed, so nobody can prove they "
            "own the name; submit under another model name, or ask the board's maintainers to remove them"
        )


class _Base(DeclarativeBase):
    """Declarative base of the owners' table (beside the arena's votes, in the same database)."""


class OwnerRow(_Base):
    """One owned model name: the salted hash of its token."""

    __tablename__ = "submission_owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def new_token() -> str:
    """A fresh owner token (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str, salt: str) -> str:
    """The hex SHA-256 of ``salt`` (hex) and ``token``: all the board keeps of a token."""
    return hashlib.sha256(bytes.fromhex(salt) + token.encode("utf-8", "surrogatepass")).hexdigest()


class OwnerStore:
    """The owners' table in the board's database at ``url`` (a SQLAlchemy URL or a SQLite file; created
    on first use, with the arena's table, in a new or empty database)."""

    def __init__(self, url: str | Path | None = None) -> None:
        from spotfake.leaderboard.arena.db import database_url, make_engine

        self.url = database_url(url)
        try:
            self.engine: Engine = make_engine(self.url, write=True)
            _Base.metadata.create_all(self.engine)
        except (SQLAlchemyError, ImportError, OSError) as exc:
            raise SpotfakeError(
                f"cannot open the board's database: {str(exc).splitlines()[0][:300]}"
            ) from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def owned(self, name: str) -> bool:
        """Whether ``name`` has an owner."""
        with Session(self.engine) as session:
            return session.scalar(select(OwnerRow.id).where(OwnerRow.name == name)) is not None

    def check(self, name: str, token: str | None, *, stored: bool) -> bool:
        """May this submitter store under ``name``? True when the name is new (store it, then
        :meth:`claim` it); False when ``token`` is the owner's. Raises :class:`OwnerError` for a missing
        or wrong token, :class:`UnownedLegacyError` for a name stored (``stored``) before owners existed."""
        with Session(self.engine) as session:
            row = session.scalar(select(OwnerRow).where(OwnerRow.name == name))
            if row is None:
                if stored:
                    raise UnownedLegacyError(name)
                return True
            given = bool(token and token.strip())
            if not given or not hmac.compare_digest(row.token_hash, token_hash(str(token).strip(), row.salt)):
                raise OwnerError(name, given=given)
            return False

    def claim(self, name: str) -> str:
        """Make ``name`` owned and return its token (the only time it exists in clear). Raises
        :class:`OwnerError` when another submission claimed it meanwhile."""
        token = new_token()
        salt = secrets.token_hex(16)
        row = OwnerRow(
            name=name, salt=salt, token_hash=token_hash(token, salt), created=datetime.now(timezone.utc)
        )
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
        except IntegrityError:
            raise OwnerError(name, given=False) from None
        return token

    def release(self, name: str, token: str) -> None:
        """Undo :meth:`claim` (the submission it was for could not be stored): the row goes only if it
        still holds ``token``."""
        with Session(self.engine) as session, session.begin():
            row = session.scalar(select(OwnerRow).where(OwnerRow.name == name))
            if row is not None and hmac.compare_digest(row.token_hash, token_hash(token, row.salt)):
                session.execute(delete(OwnerRow).where(OwnerRow.id == row.id))
