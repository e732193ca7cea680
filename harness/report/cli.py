"""``spotfake report`` (paper tables and figures from run folders) and ``spotfake robustness`` (sweeps)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require
from spotfake.harness.metrics.selection import add_metrics_arg, check_expression, resolve_metrics
from spotfake.harness.perturb import Perturbation

if TYPE_CHECKING:
    from spotfake.harness.runner import RunOutcome

DEFAULT_ROBUSTNESS_METRICS = ("acc", "auc")


def _metric_labels(names: Sequence[str]) -> dict[str, str]:
    """Registry labels of ``names`` (unknown names: SpotfakeError with the closest ones)."""
    from spotfake.harness.metrics import metric_def

    return {name: metric_def(name).label for name in names}


def _held_out(tasks: Sequence[str]) -> dict[str, Mapping[str, Sequence[str]]]:
    """What each registered task says was held out in training (empty for unknown tasks)."""
    from spotfake.harness.registry import TASKS

    out: dict[str, Mapping[str, Sequence[str]]] = {}
    for task in tasks:
        try:
            out[task] = TASKS.get(task).held_out
        except SpotfakeError:
            out[task] = {}
    return out


def register_report(parser: argparse.ArgumentParser) -> None:
    """Paper-ready tables (Markdown, LaTeX, CSV) and figures (PNG, SVG) from run folders."""
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders, or folders holding them")
    parser.add_argument("--format", choices=["markdown", "latex", "csv"], default="markdown")
    add_metrics_arg(parser, default="every metric with a value")
    parser.add_argument("--figures", metavar="DIR", help="also write the figures (PNG and SVG) into DIR")
    parser.add_argument(
        "--suite", help="a suite's table (spotfake list suites): its rows, mean, std and worst"
    )
    parser.add_argument("--output", metavar="FILE", help="write the table here instead of stdout")
    parser.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Build the tables (and figures) of every run folder given."""
    from spotfake.harness.io import output_file, output_folder, write_output

    if args.figures:
        require("matplotlib", "report", "spotfake report --figures")
        output_folder(args.figures, "--figures")
    if args.output:
        output_file(args.output, "--output")
    from spotfake.harness.report.runs import load_runs
    from spotfake.harness.report.tables import RENDERERS, build_tables, default_metrics

    check_expression(args.metrics)
    runs = load_runs([Path(p) for p in args.run_dirs], with_samples=bool(args.figures))
    results = [r.results for r in runs]
    metrics = list(resolve_metrics(args.metrics, default_metrics(results))) if args.metrics else []
    labels = _metric_labels(metrics)
    if args.suite:
        from spotfake.harness.suites.spec import get_suite
        from spotfake.harness.suites.table import suite_tables

        tables = suite_tables(get_suite(args.suite), results)
        if not tables:
            raise SpotfakeError(f"none of the runs given is a run of suite {args.suite!r}'s tasks")
    else:
        tables = build_tables(results, metrics or None)
    text = RENDERERS[args.format](tables)
    if args.output:
        write_output(Path(args.output), text, "--output")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.figures:
        from spotfake.harness.report.figures import write_figures

        available = default_metrics(results)
        chosen = labels or _metric_labels([m for m in DEFAULT_ROBUSTNESS_METRICS if m in available])
        tasks = list(dict.fromkeys(r.task for r in runs))
        written = write_figures(runs, Path(args.figures), metric_labels=chosen, held_out=_held_out(tasks))
        print(f"wrote {len(written)} figure file(s) to {args.figures}", file=sys.stderr)
    return 0


def register_robustness(parser: argparse.ArgumentParser) -> None:
    """Run a model clean and under each perturbation strength; print metric-vs-strength tables."""
    from spotfake.harness.cli import _add_scoring_args

    parser.add_argument("--model", required=True, help="model name(s), comma-separated")
    parser.add_argument("--model-args", help="key=value,key=value passed to the model")
    parser.add_argument("--task", required=True, help="one task name (or task YAML)")
    parser.add_argument(
        "--perturb",
        action="append",
        default=[],
        metavar="SWEEP",
        help="an axis such as 'jpeg:95,85,75,60,50' or 'blur:0.5,1,2' (repeatable; docs/robustness.md)",
    )
    add_metrics_arg(parser, default=f"the tables' {','.join(DEFAULT_ROBUSTNESS_METRICS)}")
    parser.add_argument("--limit", type=int, help="evaluate only the first N samples")
    parser.add_argument("--batch-size", type=int, help="samples per model call (default: the model's own)")
    parser.add_argument("--workers", type=int, default=4, help="image-decoding threads")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_scoring_args(parser)
    parser.set_defaults(handler=cmd_robustness)


def cmd_robustness(args: argparse.Namespace) -> int:
    """The sweep: parse everything first, then run (or reuse) each point of each model."""
    from spotfake.harness.cli import _scoring_options, _split
    from spotfake.harness.model import LazyModel, parse_model_args
    from spotfake.harness.robustness import plan, robustness_tables, sweep
    from spotfake.harness.runner import RunOptions
    from spotfake.harness.task import choose_metrics, load_task, parse_task_args

    points = plan(args.perturb)
    metrics = list(DEFAULT_ROBUSTNESS_METRICS)
    if args.metrics:
        metrics = list(resolve_metrics(args.metrics, metrics))
    labels = _metric_labels(metrics)
    if args.batch_size is not None and args.batch_size < 1:
        raise SpotfakeError(f"--batch-size must be >= 1, got {args.batch_size}")
    models = _split(args.model)
    model_args = parse_model_args(args.model_args)
    task = load_task(args.task, args.data_root, parse_task_args(args.task_args))
    missing = [m for m in metrics if m not in task.spec.metrics]  # the tables' metrics are computed too
    task = choose_metrics(task, ",".join(f"+{m}" for m in missing) or None)
    options = RunOptions(
        output_dir=Path(args.output_dir),
        batch_size=args.batch_size,
        limit=args.limit,
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
        scoring=_scoring_options(args),
    )

    results = []
    for name in models:
        model = LazyModel(name, model_args)

        def report(point: Perturbation | None, outcome: RunOutcome, who: str = name) -> None:
            spec = "clean" if point is None else point.spec
            done = f"{outcome.n_predicted} predicted, {outcome.n_reused} reused"
            print(f"{who} {spec}: {done} -> {outcome.folder}", file=sys.stderr)

        try:
            results += sweep(model, model_args, task, points, options, on_point=report)
        finally:
            model.close()
    print(f"{task.spec.name}: {len(points)} point(s) x {len(models)} model(s), runs in {args.output_dir}")
    for metric in metrics:
        print()
        print(robustness_tables(results, metric, labels[metric]))
    return 0
