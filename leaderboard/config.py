"""The app's settings: where results and task data live, and the submission limits (no Streamlit here)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spotfake.leaderboard.received import Limits


@dataclass(frozen=True)
class AppConfig:
    """Where the app reads results from and where task data (images, references) lives."""

    results_dir: Path | None = Path("results")
    runs_dir: Path | None = Path("runs")
    data_roots: Mapping[str, Path] = field(default_factory=dict)
    limits: Limits = Limits()
    submissions: bool = True
    """Whether the Submit tab accepts uploads (off for a read-only public board)."""
    arena_db: str | None = None
    """The board's database (arena votes, submission owners): a SQLAlchemy URL or a SQLite file (None:
    ``RUNS_DIR/arena.sqlite3``)."""
    arena_min_votes: int = 30
    """Votes a model needs before the arena shows its rating."""
    held_out_labels: Mapping[str, Path] = field(default_factory=dict)
    """Task -> the private labels file it is scored against on this server (docs/hosting.md)."""
    css_clip_model: Path | None = None
    """The CLIP folder that recomputes ``css_clip77`` (``--css-clip-model``); without it such uploads are
    refused."""

    def data_root(self, task: str) -> Path | None:
        """The data root for ``task``: its own (``TASK=DIR``), else the default one (``DIR``), else None."""
        return self.data_roots.get(task, self.data_roots.get(""))

    def database(self) -> str | None:
        """``arena_db`` as given, else ``RUNS_DIR/arena.sqlite3``; None without either."""
        if self.arena_db:
            return self.arena_db
        return str(Path(self.runs_dir) / "arena.sqlite3") if self.runs_dir is not None else None


def parse_data_roots(values: Sequence[str]) -> dict[str, Path]:
    """``["DIR", "loki=DIR2"]`` -> ``{"": DIR, "loki": DIR2}``."""
    roots: dict[str, Path] = {}
    for value in values:
        task, sep, folder = value.partition("=")
        if sep and task and "/" not in task and "\\" not in task:
            roots[task] = Path(folder)
        else:
            roots[""] = Path(value)
    return roots


def parse_held_out(values: Sequence[str]) -> dict[str, Path]:
    """``["demo=/srv/private/demo.csv"]`` -> ``{"demo": Path(...)}``; one line for a value without a task."""
    from spotfake.harness.errors import SpotfakeError

    found: dict[str, Path] = {}
    for value in values:
        task, sep, path = value.partition("=")
        if not (sep and task and path):
            raise SpotfakeError(
                f"--held-out-labels {value!r}: give TASK=FILE (the task's private labels file)"
            )
        found[task] = Path(path)
    return found


def parse_args(argv: Sequence[str]) -> AppConfig:
    """The app's own options (what follows ``--`` on the ``streamlit run`` line)."""
    parser = argparse.ArgumentParser(prog="leaderboard/app.py")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--data-root", action="append", default=[])
    parser.add_argument("--arena-db")
    parser.add_argument("--arena-min-votes", type=int, default=30)
    parser.add_argument("--held-out-labels", action="append", default=[])
    parser.add_argument("--no-submissions", action="store_true")
    parser.add_argument("--css-clip-model")
    args = parser.parse_args(list(argv))
    return AppConfig(
        results_dir=Path(args.results_dir),
        runs_dir=Path(args.runs_dir),
        data_roots=parse_data_roots(args.data_root),
        arena_db=args.arena_db,
        arena_min_votes=max(1, args.arena_min_votes),
        held_out_labels=parse_held_out(args.held_out_labels),
        submissions=not args.no_submissions,
        css_clip_model=Path(args.css_clip_model) if args.css_clip_model else None,
    )
