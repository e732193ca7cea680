"""``spotfake arena import|export|ratings``, and ``spotfake judge-check`` with ``--arena-db`` (plugged in
through ``spotfake.commands``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.leaderboard.arena.ratings import MIN_VOTES

if TYPE_CHECKING:
    from spotfake.leaderboard.arena.store import ArenaStore


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLAlchemy URL or SQLite file (default runs/arena.sqlite3)")


def _open_store(args: argparse.Namespace, command: str, *, create: bool = True) -> ArenaStore:
    """The votes database of ``--db`` (SQLAlchemy: the ``leaderboard`` extra)."""
    require("sqlalchemy", "leaderboard", f"spotfake arena {command}")
    from spotfake.leaderboard.arena.store import ArenaStore

    return ArenaStore(args.db, create=create)


def _roots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", default="results", help="committed results (default results/)")
    parser.add_argument("--runs-dir", default="runs", help="local runs (default runs/)")


def register_import(parser: argparse.ArgumentParser) -> None:
    """Import votes from a JSONL file (all or nothing); models and samples are checked against the runs."""
    parser.add_argument("file", metavar="FILE.jsonl", help="one vote per line: task, sample_id, model_a, "
                        "model_b, winner (a|b|tie|both_bad), voter, time")  # fmt: skip
    _common(parser)
    _roots(parser)
    parser.set_defaults(handler=cmd_import)


def register_export(parser: argparse.ArgumentParser) -> None:
    """Write every stored vote as JSONL (stdout, or --output FILE)."""
    _common(parser)
    parser.add_argument("--task", help="only this task's votes")
    parser.add_argument("--output", help="file to write (default: stdout)")
    parser.set_defaults(handler=cmd_export)


def register_ratings(parser: argparse.ArgumentParser) -> None:
    """Bradley-Terry ratings of a task's models from the stored votes, with bootstrap intervals."""
    _common(parser)
    parser.add_argument("--task", required=True)
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        help="bootstrap resamples of the intervals, at least 1 (default 200)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--min-votes",
        type=int,
        default=MIN_VOTES,
        help=f"votes a model needs for its rating to be printed, as on the board (default {MIN_VOTES})",
    )
    parser.add_argument(
        "--json", action="store_true", help="print {task, n_votes, min_votes, ratings: [...]}"
    )
    parser.set_defaults(handler=cmd_ratings)


def register_judge_check(parser: argparse.ArgumentParser) -> None:
    """Measure a judge on a task: separation of good and mismatched explanations, agreement with metrics and
    (--arena-db) with the arena's votes."""
    from spotfake.harness.judge.cli import register_check

    register_check(parser)
    parser.add_argument(
        "--arena-db",
        help="arena votes (SQLAlchemy URL or SQLite file), read only: adds the judge's agreement with them",
    )
    _roots(parser)
    parser.set_defaults(handler=cmd_judge_check)


def cmd_judge_check(args: argparse.Namespace) -> int:
    """The engine's judge-check report, with the judge's agreement with the arena's votes when asked."""
    from spotfake.harness.judge.cli import check_report, default_cache_dir, print_check

    report = check_report(args)
    if args.arena_db:
        from spotfake.harness.judge.settings import parse_judge
        from spotfake.harness.task import load_task
        from spotfake.leaderboard.arena.judge_agreement import arena_agreement

        report["arena"] = arena_agreement(
            parse_judge(args.judge_model, args.judge_args),
            load_task(args.task, args.data_root),
            db=args.arena_db,
            roots=[Path(args.results_dir), Path(args.runs_dir)],
            cache_dir=Path(args.judge_cache) if args.judge_cache else default_cache_dir(),
        )
    print_check(report, as_json=args.json)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Check and store the votes of FILE in one transaction."""
    from spotfake.leaderboard.arena.catalog import load_catalog

    catalog = load_catalog([Path(args.results_dir), Path(args.runs_dir)])
    store = _open_store(args, "import")
    try:
        mapped, left = store.migrate(catalog)
        n = store.import_file(Path(args.file), catalog)
    finally:
        store.close()
    if mapped:
        print(f"mapped {len(mapped)} model names of earlier votes to their runs: {', '.join(mapped)}"
              + (f" (left as stored, matching no single run: {', '.join(left)})" if left else ""),
              file=sys.stderr)  # fmt: skip
    print(f"imported {n} votes from {args.file}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Print or write the stored votes as JSONL (same lines as import reads)."""
    from spotfake.harness.io import atomic_write_text

    store = _open_store(args, "export", create=False)
    try:
        votes = store.votes(args.task)
    finally:
        store.close()
    text = "".join(json.dumps(v.to_json(), ensure_ascii=False) + "\n" for v in votes)
    if args.output:
        atomic_write_text(Path(args.output), text)
        print(f"wrote {len(votes)} votes to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_ratings(args: argparse.Namespace) -> int:
    """Print the ratings table or JSON; a model under ``--min-votes`` votes is listed without a rating."""
    from spotfake.leaderboard.arena.ratings import bradley_terry, rating_rows, ratings_json

    if args.bootstrap < 1:
        raise SpotfakeError(
            f"--bootstrap must be at least 1, got {args.bootstrap}: every rating is printed with its bootstrap "
            "interval (default 200 resamples)"
        )
    if args.min_votes < 1:
        raise SpotfakeError(f"--min-votes must be at least 1, got {args.min_votes}")
    store = _open_store(args, "ratings", create=False)
    try:
        votes = store.votes(args.task)
    finally:
        store.close()
    ratings = bradley_terry(votes, n_bootstrap=args.bootstrap, seed=args.seed)
    if args.json:
        print(json.dumps(ratings_json(args.task, votes, ratings, args.min_votes), indent=2))
        return 0
    if not votes:
        print(f"no votes for task {args.task}")
        return 0
    print(f"{args.task}: {len(votes)} votes (Bradley-Terry, mean 1000, 95% bootstrap interval; "
          f"a rating is printed once its model has {args.min_votes} votes)")  # fmt: skip
    for row in rating_rows(ratings, args.min_votes):
        if row["below_minimum"]:
            print(f"  {row['model']:<48} {row['votes']} votes, below the minimum of {args.min_votes}")
            continue
        ci = f"[{row['ci'][0]:.0f}, {row['ci'][1]:.0f}]"
        print(f"  {row['model']:<48} {row['rating']:7.1f}  {ci:<14} {row['votes']} votes")
    return 0
