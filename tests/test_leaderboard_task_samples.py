"""The board's task samples: a task whose data is not at hand says why, and is found once the data turns
up, without restarting the server (a failure is never cached)."""

from __future__ import annotations

import shutil
from pathlib import Path

from spotfake.leaderboard.loading import task_samples

DEMO_DATA = Path(__file__).resolve().parents[1] / "tasks" / "demo" / "data"


def test_data_that_turns_up_after_a_failed_look_is_found(tmp_path: Path) -> None:
    root = tmp_path / "demo-data"
    samples, why = task_samples("demo", root)
    assert samples is None and why and "\n" not in why
    shutil.copytree(DEMO_DATA, root)
    samples, why = task_samples("demo", root)
    assert why == "" and samples is not None and len(samples) == 480


def test_an_unregistered_task_name_is_a_reason_not_a_path() -> None:
    samples, why = task_samples("../../etc/passwd", None)
    assert samples is None and why == "task '../../etc/passwd' is not registered in this installation"
