"""Registers the built-in task definitions (every YAML file in ``tasks/definitions``)."""

from __future__ import annotations

from pathlib import Path

from spotfake.harness.task import register_task_dir

DEFINITIONS = Path(__file__).parent / "definitions"


def register_builtin_tasks() -> None:
    """Entry point ``spotfake.tasks: builtin``."""
    register_task_dir(DEFINITIONS)
