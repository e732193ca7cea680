"""``spotfake verify-run``: re-run a submission's declared model here and, when the answers agree, store
this host's run as *reproduced* (:mod:`spotfake.leaderboard.submission.reproduce`)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from spotfake.harness.errors import SpotfakeError


def register_verify_run(parser: argparse.ArgumentParser) -> None:
    """Re-run a submission's declared model on the task and store the run as reproduced if it agrees."""
    parser.add_argument(
        "submission",
        metavar="SUBMISSION",
        help="a run folder (results.json + samples.jsonl) or a stored submission",
    )
    parser.add_argument(
        "--results-dir", default="results", help="where the reproduced run goes (default: results/)"
    )
    parser.add_argument("--data-root", help="the task's data, as for `spotfake run`")
    parser.add_argument(
        "--model-args",
        help="this host's values for the declared model's arguments, e.g. path=/models/ckpt.pth (the weights "
        "must hash to the declared sha256)",
    )
    parser.add_argument("--batch-size", type=int, help="batch size of the re-run (default: the model's own)")
    parser.add_argument(
        "--score-atol",
        type=float,
        help="largest |p(fake) difference| per sample (default by model kind: expert 1e-4, baseline 0)",
    )
    parser.add_argument(
        "--flip-rate",
        type=float,
        help="share of samples whose verdict may differ (default by model kind: expert and baseline 0, lmm 0.01)",
    )
    parser.add_argument(
        "--work-dir", help="where the re-run's folder is written (default: a temporary folder)"
    )
    parser.add_argument("--replace", action="store_true", help="replace a stored reproduced run of the model")
    parser.set_defaults(handler=cmd_verify_run)


def cmd_verify_run(args: argparse.Namespace) -> int:
    """Reproduce ``SUBMISSION``; a refusal is one line naming the reason."""
    from spotfake.harness.allocator import tune_cpu_allocator
    from spotfake.harness.model import parse_model_args
    from spotfake.leaderboard.received import files_from_folder
    from spotfake.leaderboard.submission.reproduce import reproduce

    if args.batch_size is not None and args.batch_size < 1:
        raise SpotfakeError(f"--batch-size must be >= 1, got {args.batch_size}")
    model_args = parse_model_args(args.model_args)
    tune_cpu_allocator()
    try:
        files = files_from_folder(Path(args.submission))
        with tempfile.TemporaryDirectory(prefix="spotfake-verify-") as scratch:
            done = reproduce(
                files,
                Path(args.results_dir),
                Path(args.work_dir) if args.work_dir else Path(scratch),
                data_root=Path(args.data_root) if args.data_root else None,
                model_args=model_args,
                batch_size=args.batch_size,
                score_atol=args.score_atol,
                flip_rate=args.flip_rate,
                replace=args.replace,
                progress=lambda step: print(f"verify-run: {step}", file=sys.stderr, flush=True),
            )
    except SpotfakeError as exc:
        raise SpotfakeError(f"verify-run refused: {exc}") from None
    agreement = done.agreement
    print(
        f"reproduced: {done.results['model']['name']} on {done.results['task']['name']}: "
        f"{agreement.n - len(agreement.flips)} of {agreement.n} verdicts agree"
        + (
            f", {agreement.same_text} identical texts"
            if agreement.max_score_diff is None
            else f", largest |p(fake) difference| {agreement.max_score_diff:.3g}"
        )
        + f" ({agreement.tolerance.describe()})"
    )
    print(f"stored in {done.folder}")
    return 0
