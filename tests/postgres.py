"""A throw-away PostgreSQL server for tests: a fresh cluster on a free port, stopped and removed after.

Uses Debian's binaries (``apt-get install -y postgresql``; the package's own cluster is not needed).
PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user (``runuser``).
Without the binaries the tests that need it skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def throwaway_postgres(bindir: Path) -> Iterator[str]:
    """Start a fresh cluster on a free port; yield its SQLAlchemy URL; stop and remove it on exit."""
    root = Path(tempfile.mkdtemp(prefix="spotfake-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    port = _free_port()
    data, log = root / "data", root / "log"
    try:
        subprocess.run(_as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True)  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]),
                       check=True, capture_output=True)  # fmt: skip
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`` of a server started for this session."""
    bindir = postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but PostgreSQL is not installed (apt-get install -y postgresql)")
        pytest.skip("PostgreSQL binaries are absent (apt-get install -y postgresql)")
    with throwaway_postgres(bindir) as url:
        yield url


def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path, prefix: str) -> str:
    """A fresh, empty database for a ``["sqlite", "postgresql"]``-parametrised fixture: a SQLite file in
    ``tmp_path``, or a new database named ``PREFIX_<random>`` on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / f"{prefix}.sqlite3")
    import psycopg

    server: str = request.getfixturevalue("postgres_url")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"
