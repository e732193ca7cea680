"""Lock files that are not what they should be: a symlink (which would truncate the file it points to), a
FIFO, a folder. Each is refused in one line and nothing outside the lock path is touched."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.locking import LOCK_FILE, FolderLock


@pytest.mark.parametrize("wait_s", [0.0, 0.5])
def test_a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched(
    tmp_path: Path, wait_s: float
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).symlink_to(target)
    with pytest.raises(SpotfakeError) as caught:
        FolderLock(folder, what="run folder", wait_s=wait_s).acquire()
    message = str(caught.value)
    assert "\n" not in message and str(folder) in message and "symbolic link" in message
    assert target.read_text() == "keep me\n"


def test_a_dangling_symlink_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(SpotfakeError, match="symbolic link"):
        FolderLock(folder, what="cache").acquire()
    assert not (tmp_path / "elsewhere.txt").exists()


def test_a_lock_path_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    os.mkfifo(folder / LOCK_FILE)
    outcome: list[BaseException | None] = []

    def take() -> None:
        try:
            FolderLock(folder, what="run folder").acquire()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001  (the test reports whatever it was)
            outcome.append(exc)

    worker = threading.Thread(target=take, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "opening a FIFO lock path blocked"
    (error,) = outcome
    assert isinstance(error, SpotfakeError) and "not a regular file" in str(error) and "\n" not in str(error)


def test_a_lock_path_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / LOCK_FILE).mkdir(parents=True)
    with pytest.raises(SpotfakeError, match=r"cannot lock run folder .*not a regular file"):
        FolderLock(folder, what="run folder").acquire()


def test_a_regular_lock_file_left_behind_is_still_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).write_text("12345 otherhost\n")
    with FolderLock(folder, what="run folder") as lock:
        assert lock.held
        assert (folder / LOCK_FILE).read_text().split()[0] == str(os.getpid())
