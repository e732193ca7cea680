"""The ``spotfake`` command line: list, run, score, and the subcommands that packages plug in.

Bad input ends with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path

from spotfake.harness import __version__
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.images import DEFAULT_MAX_PIXELS
from spotfake.harness.metrics.selection import add_metrics_arg, check_expression, join_metrics_value
from spotfake.harness.model_kind import MODEL_KINDS
from spotfake.harness.run_identity import PLAIN_NAME
from spotfake.harness.scoring import ScoringOptions, threshold_arg

Handler = Callable[[argparse.Namespace], int]

log = logging.getLogger("spotfake")
DEFAULT_TASK = "demo"


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _add_scoring_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", help="the dataset's folder as downloaded (see docs/tasks.md)")
    parser.add_argument("--task-args", help="reader options, key=value,key=value (e.g. split=val)")
    parser.add_argument("--output-dir", default="runs", help="where run folders go (default: runs/)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling and bootstrap (default 0)")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples for CIs (default 1000)"
    )
    parser.add_argument(
        "--threshold",
        type=threshold_arg,
        default="0.5",
        help="p(fake) threshold for score-only models (default 0.5), or calibrate=SPLIT: also report accuracy "
        "at a threshold fitted on that split, e.g. calibrate=split=val (docs/protocols.md)",
    )
    parser.add_argument(
        "--css-model", help="local sentence-transformers folder for CSS (default all-MiniLM-L6-v2)"
    )
    parser.add_argument("--css-clip-model", metavar="DIR", help="local CLIP folder for the css_clip77 metric")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, including plugged-in subcommands."""
    parser = argparse.ArgumentParser(
        prog="spotfake",
        description="Benchmark synthetic-image and deepfake detectors, with explanations.",
    )
    parser.add_argument("--version", action="version", version=f"spotfake {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_list = sub.add_parser("list", help="list tasks, models or metrics")
    p_list.add_argument("what", nargs="?", choices=["tasks", "models", "metrics", "suites"], default="tasks")
    p_list.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'loki*'")
    p_list.add_argument(
        "--data-root", help="also count the samples of the tasks whose data is in this folder"
    )
    p_list.set_defaults(handler=cmd_list)

    p_run = sub.add_parser(
        "run", help="evaluate models on tasks (no arguments: every embedded model on demo)"
    )
    p_run.add_argument("--model", help="model name(s), comma-separated (default: the embedded models)")
    p_run.add_argument("--model-args", help="key=value,key=value passed to the model")
    p_run.add_argument("--task", help=f"task name(s), comma-separated (default: {DEFAULT_TASK})")
    p_run.add_argument(
        "--suite",
        help="run a named set of tasks (spotfake list suites) and print its table; --data-root is then one "
        "folder holding a folder per task, or task=PATH pairs",
    )
    add_metrics_arg(p_run)
    p_run.add_argument("--limit", type=int, help="evaluate only the first N samples of each task")
    p_run.add_argument(
        "--batch-size", type=int, help="samples per model call (default: the model's own, else 8)"
    )
    p_run.add_argument("--workers", type=int, default=4, help="image-decoding threads")
    p_run.add_argument("--strict", action="store_true", help="stop at the first missing or corrupt image")
    p_run.add_argument("--no-resume", action="store_true", help="ignore records of an earlier identical run")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.add_argument(
        "--no-retry-errors",
        action="store_true",
        help="on resume, keep error records (failed requests, unreadable images) instead of retrying them",
    )
    p_run.add_argument(
        "--max-megapixels",
        type=float,
        help="refuse (as an error record) images larger than this many megapixels "
        f"(default {DEFAULT_MAX_PIXELS / 1e6:.2f}, PIL's own limit)",
    )
    p_run.add_argument(
        "--perturb",
        help="perturb images before the model, e.g. jpeg:75 or resize:0.5+jpeg:75 (docs/robustness.md)",
    )
    _add_scoring_args(p_run)
    from spotfake.harness.judge.cli import add_judge_args

    add_judge_args(p_run, required=False)
    p_run.set_defaults(handler=cmd_run)

    p_score = sub.add_parser(
        "score", help="score saved predictions (JSONL: {id, response} and/or {id, score})"
    )
    p_score.add_argument("--task", required=True)
    p_score.add_argument("--predictions", required=True, help="JSONL file, one prediction per line")
    p_score.add_argument("--model-name", help="name for the results (default: the file's stem)")
    p_score.add_argument(
        "--model-kind",
        choices=MODEL_KINDS,
        help="what answered (decides whether explanation metrics apply; default: lmm when the file has "
        "text answers, else expert)",
    )
    p_score.add_argument(
        "--replace",
        action="store_true",
        help="score into a folder that holds another run (its records are kept as samples.previous-*)",
    )
    add_metrics_arg(p_score)
    _add_scoring_args(p_score)
    p_score.set_defaults(handler=cmd_score)

    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Subcommands from the ``spotfake.commands`` entry points; ``a.b`` nests ``b`` under ``a``."""
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for ep in sorted(entry_points(group="spotfake.commands"), key=lambda e: e.name):
        path = ep.name.split(".")
        parent = sub
        for depth, part in enumerate(path[:-1]):
            prefix = ".".join(path[: depth + 1])
            if prefix not in groups:
                group = parent.add_parser(part, help=f"{part} commands")
                groups[prefix] = group.add_subparsers(dest=f"{prefix}_command", metavar="COMMAND")
                group.set_defaults(handler=_needs_subcommand(group))
            parent = groups[prefix]
        try:
            register = ep.load()
        except ImportError as exc:
            broken = parent.add_parser(path[-1], help=f"(unavailable: {exc})")
            broken.set_defaults(handler=_unavailable(ep.name, exc))
            continue
        summary = (register.__doc__ or "").strip().splitlines()
        child = parent.add_parser(path[-1], help=summary[0] if summary else None)
        register(child)


def _needs_subcommand(group: argparse.ArgumentParser) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        group.print_help(sys.stderr)
        return 2

    return handler


def _unavailable(name: str, exc: Exception) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        raise SpotfakeError(f"command {name.replace('.', ' ')!r} is unavailable: {exc}")

    return handler


def cmd_list(args: argparse.Namespace) -> int:
    """``spotfake list tasks|models|metrics|suites`` (:mod:`harness.listing`)."""
    from spotfake.harness.listing import list_entries

    for line in list_entries(args.what, args.pattern, args.data_root):
        print(line)
    return 0


def _scoring_options(args: argparse.Namespace) -> ScoringOptions:
    if args.bootstrap < 0:
        raise SpotfakeError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    options = ScoringOptions(
        **args.threshold.fields(), n_bootstrap=args.bootstrap, seed=args.seed, css_model=args.css_model
    )
    options.css_clip_model = getattr(args, "css_clip_model", None)
    return options


def _embedded_models() -> list[str]:
    from spotfake.harness.registry import MODELS

    return [e.name for e in MODELS if e.meta.get("embedded")]


def cmd_run(args: argparse.Namespace) -> int:
    """Evaluate each model on each task; print a leaderboard table at the end."""
    from spotfake.harness import distributed
    from spotfake.harness.allocator import tune_cpu_allocator
    from spotfake.harness.model import LazyModel, parse_model_args
    from spotfake.harness.perturb import parse_perturbation
    from spotfake.harness.runner import RunOptions, run
    from spotfake.harness.table import leaderboard_table
    from spotfake.harness.task import choose_metrics, load_task, parse_task_args

    perturbation = parse_perturbation(args.perturb)
    models = _split(args.model) or _embedded_models()
    if args.suite and args.task:
        raise SpotfakeError("--suite and --task: give one (a suite names its own tasks)")
    tasks = _split(args.task) or [DEFAULT_TASK]
    if args.batch_size is not None and args.batch_size < 1:
        raise SpotfakeError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.max_megapixels is not None and not args.max_megapixels > 0:
        raise SpotfakeError(f"--max-megapixels must be > 0, got {args.max_megapixels}")
    _quiet_third_party()
    tune_cpu_allocator()
    model_args = parse_model_args(args.model_args)
    task_args = parse_task_args(args.task_args)
    check_expression(args.metrics)
    suite = None
    if args.suite:
        from spotfake.harness.suites.run import suite_tasks
        from spotfake.harness.suites.spec import get_suite

        suite = get_suite(args.suite)
        loaded = suite_tasks(suite, args.data_root, task_args)
    else:
        loaded = [load_task(t, args.data_root, task_args) for t in tasks]
    loaded = [choose_metrics(t, args.metrics) for t in loaded]
    options = RunOptions(
        output_dir=Path(args.output_dir),
        batch_size=args.batch_size,
        limit=args.limit,
        seed=args.seed,
        strict=args.strict,
        resume=not args.no_resume,
        workers=args.workers,
        progress=not args.quiet,
        scoring=_scoring_options(args),
        perturbation=perturbation,
        retry_errors=not args.no_retry_errors,
        max_pixels=None if args.max_megapixels is None else int(args.max_megapixels * 1e6),
    )
    options.scoring.check_metrics(m for task in loaded for m in task.spec.metrics)  # before any model runs
    from spotfake.harness.judge.cli import judge_folder, judge_settings

    judge = judge_settings(args)  # bad --judge-args fail before any work
    results = []
    lazy = [LazyModel(name, model_args) for name in models]  # unknown names fail before any work
    try:
        for model in lazy:
            try:
                for task in loaded:
                    outcome = run(model, model_args, task, options)
                    if outcome.results is not None:
                        judged = judge_folder(judge, args, outcome.folder, task) if judge else None
                        results.append(judged or outcome.results)
                        log.info("wrote %s", outcome.folder)
            finally:
                model.close()
    finally:
        distributed.shutdown(distributed.current())
    if results and suite is not None:
        from spotfake.harness.report.tables import to_markdown
        from spotfake.harness.suites.table import suite_tables

        print(to_markdown(suite_tables(suite, results)), flush=True)
    elif results:
        print(leaderboard_table(results), flush=True)
        _where(Path(args.output_dir), len(results))
    return 0


def _quiet_third_party() -> None:
    """No progress bars or advisory chatter from the hub and transformers (spotfake draws its own)."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def _where(output_dir: Path, n: int) -> None:
    """The one line after the board: where the results are and how to look at them."""
    print(
        f"spotfake: {n} result(s) under {output_dir}/; open the leaderboard with: spotfake leaderboard",
        file=sys.stderr,
    )


def cmd_score(args: argparse.Namespace) -> int:
    """Re-score a predictions file through the same code as a fresh run."""
    from spotfake.harness.jsonio import iter_json_lines, open_regular
    from spotfake.harness.rescore import score_predictions
    from spotfake.harness.run_identity import check_plain_name
    from spotfake.harness.scoring import responses_from_predictions
    from spotfake.harness.table import leaderboard_table
    from spotfake.harness.task import load_task, parse_task_args

    path = Path(args.predictions)
    if args.model_name is not None:
        check_plain_name(args.model_name)
    elif not PLAIN_NAME.match(path.stem):
        raise SpotfakeError(
            f"the predictions file's name {path.stem!r} is not a plain model name; pass --model-name"
        )
    _quiet_third_party()
    responses = responses_from_predictions(
        iter_json_lines(path, what="predictions file"), f"predictions file {path}", base_dir=path.parent
    )
    task = load_task(args.task, args.data_root, parse_task_args(args.task_args), metrics=args.metrics)
    digest = hashlib.sha256()
    with open_regular(path, what="predictions file") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    fingerprint = digest.hexdigest()[:16]
    folder, results = score_predictions(
        task,
        responses,
        model_name=args.model_name or path.stem,
        output_dir=Path(args.output_dir),
        scoring_options=_scoring_options(args),
        source_file=str(path),
        fingerprint=fingerprint,
        replace=args.replace,
        model_kind=args.model_kind,
    )
    print(leaderboard_table([results]), flush=True)
    print(f"spotfake: wrote {folder}; open the leaderboard with: spotfake leaderboard", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spotfake`` console script."""
    parser = build_parser()
    args = parser.parse_args(join_metrics_value(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="spotfake: %(levelname)s: %(message)s"
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        code: int = handler(args)
        return code
    except SpotfakeError as exc:
        print(f"spotfake: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "spotfake: interrupted; records so far are saved, rerun the same command to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
