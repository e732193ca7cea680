"""Registers the built-in task definitions (every YAML file in ``tasks/definitions``) and suites (``tasks/suites``)."""

from __future__ import annotations

from pathlib import Path

from spotfake.harness.task import register_task_dir

DEFINITIONS = Path(__file__).parent / "definitions"
SUITES = Path(__file__).parent / "suites"


def register_builtin_tasks() -> None:
    """Entry point ``spotfake.tasks: builtin``."""
    register_task_dir(DEFINITIONS)


def register_builtin_suites() -> None:
    """Entry point ``spotfake.suites: builtin``."""
    from spotfake.harness.suites.spec import register_suite_dir

    register_suite_dir(SUITES)
