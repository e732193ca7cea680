"""``spotfake audit``: print (and keep) what a task's images give away besides their content."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from spotfake.harness.audit.report import CLASSES, FLAG_AUC


def register_audit(parser: argparse.ArgumentParser) -> None:
    """Per class: formats, JPEG quality, sizes, and a format-only baseline's AUC (flagged above 0.6)."""
    parser.add_argument("--task", required=True, help="task name or YAML file")
    parser.add_argument("--data-root", help="the dataset's folder as downloaded (see docs/tasks.md)")
    parser.add_argument("--task-args", help="reader options, key=value,key=value")
    parser.add_argument(
        "--per-class",
        type=int,
        default=2000,
        help="images audited per class, drawn with --seed (default 2000; 0 = all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="also write the audit as JSON to FILE")
    parser.set_defaults(handler=cmd_audit)


def _fmt(q: dict[str, float] | None) -> str:
    return "-" if q is None else f"{q['median']:g} ({q['p10']:g}-{q['p90']:g})"


def render(audit: dict[str, Any]) -> str:
    """The audit as a plain-text table, one column per class, and the baseline's verdict."""
    rows: list[tuple[str, ...]] = [("", *CLASSES)]
    summaries = [audit["classes"][c] for c in CLASSES]
    rows.append(("images", *(str(s["n"]) for s in summaries)))
    rows.append(("unreadable", *(str(s["unreadable"]) for s in summaries)))
    rows.append(
        ("formats", *(", ".join(f"{k} {v}" for k, v in s["formats"].items()) or "-" for s in summaries))
    )
    rows.append(("JPEG quality, median (p10-p90)", *(_fmt(s["jpeg_quality"]) for s in summaries)))
    rows.append(("width", *(_fmt(s["width"]) for s in summaries)))
    rows.append(("height", *(_fmt(s["height"]) for s in summaries)))
    rows.append(("aspect", *(_fmt(s["aspect"]) for s in summaries)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    auc = audit["format_only_auc"]
    lines.append("")
    lines.append(f"format-only baseline AUC: {'-' if auc is None else f'{auc:.3f}'} ({audit['baseline']})")
    if audit["flagged"]:
        lines.append(
            f"FLAGGED: above {FLAG_AUC}: formats, JPEG quality or sizes tell the classes apart; compare detectors "
            "on an aligned variant (docs/protocols.md)"
        )
    return "\n".join(lines) + "\n"


def cmd_audit(args: argparse.Namespace) -> int:
    """Audit a task, print the table, keep the audit for ``spotfake run``."""
    from spotfake.harness.audit.report import audit_task
    from spotfake.harness.audit.store import save_audit
    from spotfake.harness.errors import SpotfakeError
    from spotfake.harness.io import output_file, write_output
    from spotfake.harness.task import load_task, parse_task_args

    if args.per_class < 0:
        raise SpotfakeError(f"--per-class must be 0 (all) or positive, got {args.per_class}")
    json_file = output_file(args.json, "--json") if args.json else None
    task = load_task(args.task, args.data_root, parse_task_args(args.task_args))
    audit = audit_task(task, per_class=args.per_class or None, seed=args.seed)
    sys.stdout.write(render(audit))
    kept = save_audit(task, audit)
    print(f"kept for spotfake run: {kept}", file=sys.stderr)
    if json_file is not None:
        write_output(json_file, json.dumps(audit, indent=2) + "\n", "--json")
    return 0
