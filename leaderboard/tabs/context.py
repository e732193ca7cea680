"""What every tab receives: the loaded board, the sidebar's filters and where results and data live.

A tab module is ``render(ctx: BoardContext) -> None``. It reads rows through ``ctx.entries`` (the chosen
task, filtered) or ``ctx.all_entries`` (every task, filtered), per-sample records through
``ctx.samples(entry)`` and the task's own samples (images, references) through ``ctx.task_samples(task)``;
all of them are cached by file modification time. It never writes result files except through the
submission code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from spotfake.harness.types import Sample
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.config import AppConfig

ALL = "All"
"""The category filter's value meaning "every category"."""
PENDING = "pending_navigation"
"""Session-state key: ``{"tab": ..., "task": ...}`` that the shell applies at the start of the next run
(widget state can only change before its widget exists); see :func:`navigate`."""
HIGHLIGHT = "highlight"
"""Session-state key: row keys (folders) to highlight, e.g. a submission accepted in this session."""
NOTICE = "notice"
"""Session-state key: one markdown line the first screen shows once (then forgets)."""
HELD_OUT = (
    "The labels of this task are held out on this server: submissions are scored here and only aggregate "
    "metrics are shown, never which sample a model got right or wrong."
)
"""What the board says of a task served with held-out labels (``--held-out-labels``)."""


def navigate(tab: str, task: str | None = None) -> None:
    """Ask for ``tab`` (a label of ``leaderboard.app.TABS``) and ``task`` on the next run of the page;
    call ``st.rerun()`` after it (or call it from a widget callback)."""
    import streamlit as st

    st.session_state[PENDING] = {"tab": tab, "task": task}


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices: the task on screen, a category of it, and which rows to show."""

    task: str
    category: str = ALL
    """The value of ``group_by`` the page is about, or :data:`ALL`."""
    kinds: tuple[str, ...] = lb.KINDS
    sources: tuple[str, ...] = lb.SOURCES
    origins: tuple[str, ...] = (lb.COMMITTED, lb.LOCAL)
    show_ci: bool = True
    group_by: str = "category"
    """``category`` or a breakdown field the results carry (``generator``, ``source``, ...)."""
    merge_tiers: bool = False
    """Rank submissions together with reproduced runs (apart by default)."""

    @property
    def group(self) -> tuple[str, str] | None:
        """``(field, value)`` of the subset on screen, or None for every sample."""
        return None if self.category == ALL else (self.group_by, self.category)

    @property
    def group_label(self) -> str:
        """How the subset is named on the page: ``generator: ddpm``."""
        return ALL if self.category == ALL else f"{self.group_by}: {self.category}"

    def keeps(self, entry: lb.RunEntry) -> bool:
        """Whether a row passes the kind, source and origin filters (whatever its task)."""
        return (
            entry.kind in self.kinds
            and entry.source in self.sources
            and any(origin in self.origins for origin in entry.origins)  # a merged run lives in both
        )


@dataclass
class BoardContext:
    """The state a tab renders from. ``filters`` is None when the board has no result at all."""

    config: AppConfig
    board: lb.Board
    filters: Filters | None = None
    highlight: frozenset[str] = field(default_factory=frozenset)
    """Keys (folders) of rows to mark as new, e.g. a submission accepted in this session."""

    @property
    def results_dir(self) -> Path | None:
        """Committed results (reproduced, reported, submitted); submissions are stored below it."""
        return self.config.results_dir

    @property
    def runs_dir(self) -> Path | None:
        """Local runs of this machine."""
        return self.config.runs_dir

    @property
    def task(self) -> str | None:
        """The task on screen, or None on an empty board."""
        return None if self.filters is None else self.filters.task

    @cached_property
    def all_entries(self) -> list[lb.RunEntry]:
        """Every row on every task that passes the kind, source and origin filters."""
        if self.filters is None:
            return []
        return [e for e in self.board.entries if self.filters.keeps(e)]

    @cached_property
    def entries(self) -> list[lb.RunEntry]:
        """The rows of the task on screen that pass the filters."""
        return [e for e in self.all_entries if e.task == self.task]

    @cached_property
    def frame(self) -> pd.DataFrame:
        """``ctx.entries`` as :func:`leaderboard.data.results_frame` (one row per result, CI bounds)."""
        return lb.results_frame(self.entries)

    @cached_property
    def clean_entries(self) -> list[lb.RunEntry]:
        """``ctx.entries`` without perturbed (robustness) runs: what rankings compare."""
        return [e for e in self.entries if not e.perturbation]

    @cached_property
    def clean_frame(self) -> pd.DataFrame:
        """``ctx.clean_entries`` as :func:`leaderboard.data.results_frame`."""
        return lb.results_frame(self.clean_entries)

    @property
    def runs_with_samples(self) -> list[lb.RunEntry]:
        """Rows of the task on screen that have per-sample records (not reported rows)."""
        return [e for e in self.entries if e.has_samples]

    @property
    def labels_held_out(self) -> bool:
        """Whether the task on screen is served with held-out labels: then no tab shows anything per
        sample that depends on a label (the viewer, the comparison, the detector curves)."""
        return self.task is not None and self.task in self.config.held_out_labels

    def data_root(self, task: str) -> Path | None:
        """Where the data of ``task`` lives on this server, if it was given."""
        return self.config.data_root(task)

    def samples(self, entry: lb.RunEntry) -> pd.DataFrame:
        """The records of a run as a frame indexed by sample id (raises SpotfakeError on a bad file)."""
        from spotfake.leaderboard.loading import samples_of

        return samples_of(entry)

    def task_samples(self, task: str) -> tuple[Mapping[str, Sample] | None, str]:
        """The task's own samples by id, or None and why they are not at hand (no data root, ...)."""
        from spotfake.leaderboard.loading import task_samples

        return task_samples(task, self.data_root(task))
