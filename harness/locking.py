"""One writer at a time: an OS file lock (``fcntl.flock``) on a folder, for run folders and caches.

The operating system releases the lock whenever the holding process ends, however it ends (exit, exception,
Ctrl-C, ``kill -9``), so a lock file left behind by a dead process is *stale* and simply taken over. The lock
file is opened without following symbolic links and must be a regular file: a link planted there, a FIFO or
a folder is refused in one line, and nothing it points to is opened or truncated. While a
live process holds it, a second writer gets one line naming the folder and the holder's pid (exit code 2),
or waits for it (``wait_s``) where waiting is the right thing, as for a shared cache.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import stat
import time
from pathlib import Path
from types import TracebackType

from spotfake.harness.errors import SpotfakeError

LOCK_FILE = ".spotfake.lock"
"""The lock file inside a locked folder (holds the holder's pid and host, for the message)."""
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""Never through a symlink (``ELOOP``), never waiting on a FIFO."""


def _holder(fd: int) -> str:
    """Who holds the lock, as the lock file (open as ``fd``) says."""
    try:
        text = os.pread(fd, 256, 0).decode("utf-8", errors="replace").strip()
    except OSError:
        return "another process"
    pid, _, host = text.partition(" ")
    if not pid.isdigit():
        return "another process"
    return f"pid {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")


class FolderLock:
    """An exclusive lock on ``folder`` (created if needed), held from ``__enter__`` to ``__exit__``.

    ``what`` names the folder in the message (``run folder``, ``cache``); ``name`` lets one folder hold
    several independent locks (one per rank of a data-parallel run). ``wait_s`` > 0 waits that long for a
    live holder before giving up; 0 refuses at once.
    """

    def __init__(self, folder: Path, *, what: str, name: str = LOCK_FILE, wait_s: float = 0.0) -> None:
        self.folder = folder
        self.path = folder / name
        self.what = what
        self.wait_s = wait_s
        self._fd: int | None = None

    def _open(self) -> int:
        """The lock file, opened without following a link and checked to be a regular file: a symlink
        planted as the lock file would otherwise have its target truncated, a FIFO would block."""
        refuse = f"cannot lock {self.what} {self.folder}: {self.path.name}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, _OPEN_FLAGS, 0o644)
        except OSError as exc:
            if self.path.is_symlink():
                raise SpotfakeError(f"{refuse} is a symbolic link; remove it and run again") from None
            if exc.errno == errno.EISDIR or self.path.is_dir():
                raise SpotfakeError(f"{refuse} is not a regular file (a folder); remove it") from None
            raise SpotfakeError(f"cannot lock {self.what} {self.folder}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SpotfakeError(f"{refuse} is not a regular file; remove it and run again")
        return fd

    def acquire(self) -> FolderLock:
        """Take the lock or raise SpotfakeError naming the folder and the holder's pid."""
        fd = self._open()
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                    os.close(fd)
                    raise SpotfakeError(f"cannot lock {self.what} {self.folder}: {exc.strerror}") from None
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    os.close(fd)
                    raise SpotfakeError(
                        f"{self.what} {self.folder} is in use by {holder}; wait for it to "
                        "finish (or stop it) and run again, or choose another --output-dir"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back (the file stays: removing it would race with the next holder)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            finally:
                os.close(fd)  # closing the descriptor releases the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
