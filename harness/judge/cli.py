"""``spotfake judge`` and ``spotfake judge-check`` (plugged in through ``spotfake.commands``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotfake.harness.errors import SpotfakeError

if TYPE_CHECKING:
    from spotfake.harness.judge.settings import JudgeSettings
    from spotfake.harness.results_contract import Results
    from spotfake.harness.task import LoadedTask


def default_cache_dir() -> Path:
    """``$SPOTFAKE_CACHE/judge`` when that variable is set, else ``~/.cache/spotfake/judge``."""
    root = os.environ.get("SPOTFAKE_CACHE")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "spotfake") / "judge"


def add_judge_args(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--judge-model``, ``--judge-args`` and ``--judge-cache`` (also used by ``spotfake run``)."""
    parser.add_argument(
        "--judge-model",
        required=required,
        choices=["openai"],
        help="judge backend: any OpenAI-compatible API",
    )
    parser.add_argument(
        "--judge-args",
        help="base_url=URL,model=NAME[,rubric=spotfake|loki][,image=true][,concurrency=4][,timeout=120]"
        "[,max_retries=5]; "
        "the key comes from SPOTFAKE_JUDGE_API_KEY or OPENAI_API_KEY",
    )
    parser.add_argument(
        "--judge-cache", help="grade cache folder (default $SPOTFAKE_CACHE/judge or ~/.cache)"
    )


def register_judge(parser: argparse.ArgumentParser) -> None:
    """Grade the explanations of run folders with an LMM judge; adds judge and judge_gated to results."""
    parser.add_argument(
        "run_dirs", nargs="+", metavar="RUN_DIR", help="run folders (results.json + samples.jsonl)"
    )
    parser.add_argument("--data-root", help="the task's data, as for `spotfake run` (images and references)")
    parser.add_argument("--task", help="the task's YAML file, for runs of a task that is not registered")
    add_judge_args(parser, required=True)
    parser.set_defaults(handler=cmd_judge)


def register_check(parser: argparse.ArgumentParser) -> None:
    """Measure a judge on a task: separation of good and mismatched explanations, agreement with metrics."""
    parser.add_argument("--task", default="demo", help="a task with reference explanations (default demo)")
    parser.add_argument("--data-root", help="the task's data (default: the task's own, for demo)")
    parser.add_argument("--run", help="a run folder of the task whose explanations are graded too")
    parser.add_argument("--limit", type=int, default=40, help="samples per label (default 40)")
    parser.add_argument("--no-css", action="store_true", help="skip CSS (no sentence-embedding model)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_judge_args(parser, required=True)
    parser.set_defaults(handler=cmd_check)


def cmd_judge(args: argparse.Namespace) -> int:
    """Judge each run folder; one line per folder with the new values."""
    from spotfake.harness.judge.run import judge_run
    from spotfake.harness.judge.settings import parse_judge

    settings = parse_judge(args.judge_model, args.judge_args)
    cache = Path(args.judge_cache) if args.judge_cache else default_cache_dir()
    folders = [Path(d) for d in args.run_dirs]
    for folder in folders:
        if not folder.is_dir():
            raise SpotfakeError(f"run folder not found: {folder}")
    for folder in folders:
        outcome = judge_run(folder, settings, cache_dir=cache, data_root=args.data_root, task=args.task)
        m = outcome.metrics
        shown = ", ".join(
            f"{k} {m[k]:.3f}" if isinstance(m.get(k), float) else f"{k} -" for k in ("judge", "judge_gated")
        )
        rate = m.get("judge_failure_rate")
        print(
            f"{folder}: {shown}; judged {m['n_judged']}, failures {m['n_judge_failures']}"
            + (f" ({rate:.1%}, counted as the lowest grade)" if rate else "")
            + f"; {outcome.requests} requests, {outcome.cache_hits} from cache"
        )
        if m.get("n_judge_errors"):
            print(
                f"{folder}: {m['n_judge_errors']} explanation(s) not graded (no answer from the judge): "
                "judge metrics withheld; rerun to grade them",
                file=sys.stderr,
            )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Print the judge-check report (table or JSON)."""
    print_check(check_report(args), as_json=args.json)
    return 0


def check_report(args: argparse.Namespace) -> dict[str, Any]:
    """The judge-check report of the parsed command line (:func:`harness.judge.check.judge_check`)."""
    from spotfake.harness.judge.check import judge_check
    from spotfake.harness.judge.settings import parse_judge

    settings = parse_judge(args.judge_model, args.judge_args)
    return judge_check(
        settings,
        task_name=args.task,
        data_root=args.data_root,
        run_dir=Path(args.run) if args.run else None,
        cache_dir=Path(args.judge_cache) if args.judge_cache else default_cache_dir(),
        limit=args.limit,
        css=not args.no_css,
    )


def _fmt(x: object) -> str:
    return f"{x:.3f}" if isinstance(x, float) else "-"


def print_check(report: dict[str, Any], *, as_json: bool) -> None:
    """Print a judge-check report as JSON or as a table (with its ``arena`` block, when it has one)."""
    if as_json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return
    judge = report["judge"]
    print(f"judge {judge['model']} (rubric {judge['rubric']} v{judge['rubric_version']}) on {report['task']} "
          f"({report['n_samples']} samples, {report['n_graded']} explanations, "
          f"{report['n_failures']} judge failures)")  # fmt: skip
    for kind, value in report["mean"].items():
        print(f"  mean judge value, {kind:<10} {_fmt(value)}")
    for name, value in report["auc"].items():
        print(f"  AUC {name:<24} {_fmt(value)}")
    for name, value in report["kendall_tau"].items():
        print(f"  Kendall tau with {name:<9} {_fmt(value)}")
    probes = report["injection"]
    print(f"  injection probes {probes['n_probes']}: agreement {_fmt(probes['agreement'])}, "
          f"raised {_fmt(probes['raised'])} (an appended instruction to give 5)")  # fmt: skip
    arena = report.get("arena")
    if arena is not None:
        ci = arena["ci"]
        shown = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        print(f"  arena votes {arena['n_votes']}: judge agrees with the person on "
              f"{arena['n_agree']} of {arena['n_compared']} ({_fmt(arena['agreement'])}{shown}, Wilson "
              f"{arena['confidence']:.0%}); left out: {arena['n_human_ties']} tie or both bad, "
              f"{arena['n_judge_ties']} judge ties, {arena['n_not_graded']} not graded")  # fmt: skip


def judge_settings(args: argparse.Namespace) -> JudgeSettings | None:
    """The judge of ``spotfake run --judge-model ...``, or None without ``--judge-model``."""
    from spotfake.harness.judge.settings import parse_judge

    if not getattr(args, "judge_model", None):
        if getattr(args, "judge_args", None):
            raise SpotfakeError("--judge-args needs --judge-model openai")
        return None
    return parse_judge(args.judge_model, args.judge_args)


def judge_folder(
    settings: JudgeSettings, args: argparse.Namespace, folder: Path, task: LoadedTask | None = None
) -> Results:
    """Judge a run folder that ``spotfake run`` just wrote (of ``task``); its updated results."""
    from spotfake.harness.judge.run import judge_run
    from spotfake.harness.results import RESULTS_FILE, read_results

    cache = Path(args.judge_cache) if args.judge_cache else default_cache_dir()
    outcome = judge_run(folder, settings, cache_dir=cache, data_root=args.data_root, task=task)
    print(f"judged {folder}: {outcome.requests} requests, {outcome.cache_hits} from cache", file=sys.stderr)
    return read_results(folder / RESULTS_FILE)
