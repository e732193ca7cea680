"""Choosing metrics: names and groups expanded in order, and the ``--metrics`` expression.

One grammar everywhere metrics are chosen (a task YAML's ``metrics:`` list, ``--metrics`` on ``spotfake
run``, ``score`` and ``robustness``, ``spotfake report --metrics``): a list of items, each a metric or a
group (:mod:`harness.metrics.registry`), optionally signed:

- ``name``: that metric, or the group's metrics in the group's order; when the first item is unsigned
  the list starts empty (it replaces the default: ``--metrics detection,judge``);
- ``+name``: added to the default list (``--metrics +my_metric``);
- ``-name``: removed from the list built so far (``--metrics -bleu4``; no effect when absent).

Each metric appears once, where it first came in. An unknown name is a one-line error with the closest
names; a list that ends up empty is an error too.
"""

from __future__ import annotations

import argparse
import fnmatch
from collections.abc import Sequence

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.registry import (
    METRICS,
    metric_def,
    metric_group,
    metric_group_names,
    metric_names,
    unknown_metric,
)


def expand(name: str, source: str = "") -> tuple[str, ...]:
    """The metrics ``name`` stands for: itself when it is a metric, the group's members when a group."""
    if name in METRICS:
        return (name,)
    group = metric_group(name)
    if group is None:
        exc = unknown_metric(name)
        raise SpotfakeError(f"{source}: {exc}" if source else str(exc))
    for member in group.metrics:
        if member not in METRICS:
            raise SpotfakeError(
                f"{source + ': ' if source else ''}metric group {name!r} lists {unknown_metric(member)}"
            )
    return group.metrics


def parse_items(items: str | Sequence[str], source: str = "") -> list[tuple[str, str]]:
    """``(sign, name)`` pairs of an expression (a comma-separated string or a list); sign is "", + or -."""
    parts = items.split(",") if isinstance(items, str) else list(items)
    out = []
    for part in parts:
        if not isinstance(part, str):
            raise SpotfakeError(f"{source}: metric names must be strings, got {part!r}"[:200])
        item = part.strip()
        if not item:
            continue
        sign = item[0] if item[0] in "+-" else ""
        name = item[len(sign) :].strip()
        if not name:
            raise SpotfakeError(f"{source}: {item!r} names no metric")
        out.append((sign, name))
    return out


def resolve_metrics(
    items: str | Sequence[str], default: Sequence[str] = (), *, source: str = "--metrics"
) -> tuple[str, ...]:
    """The metric names an expression selects, in order (see the module docstring).

    ``default`` is the list that a leading signed item changes (a task's own metrics); every name is
    checked, groups expanded. Raises SpotfakeError naming ``source``.
    """
    parsed = parse_items(items, source)
    if not parsed:
        raise SpotfakeError(f"{source}: no metric given")
    chosen: dict[str, None] = {} if parsed[0][0] == "" else dict.fromkeys(default)
    for sign, name in parsed:
        members = expand(name, source)
        if sign == "-":
            for member in members:
                chosen.pop(member, None)
        else:
            chosen.update(dict.fromkeys(m for m in members if m not in chosen))
    if not chosen:
        raise SpotfakeError(
            f"{source}: {items if isinstance(items, str) else ','.join(items)!r} leaves no metric"
        )
    return tuple(chosen)


def check_expression(items: str | Sequence[str] | None, *, source: str = "--metrics") -> None:
    """Check every name of an expression (before any data is read or model built); None passes."""
    if items is None:
        return
    for _, name in parse_items(items, source):
        expand(name, source)


def add_metrics_arg(parser: argparse.ArgumentParser, default: str = "the task's own list") -> None:
    """The ``--metrics EXPR`` option of every command that chooses metrics."""
    parser.add_argument(
        "--metrics",
        metavar="EXPR",
        help=f"metrics and groups, comma-separated: a list replaces {default}, +name adds, -name removes "
        "(e.g. +my_metric, detection,judged, -bleu4; spotfake list metrics)",
    )


def join_metrics_value(argv: Sequence[str]) -> list[str]:
    """``--metrics -bleu4`` as ``--metrics=-bleu4``: argparse would take the leading "-" for an option."""
    args, out, i = list(argv), [], 0
    while i < len(args):
        value = args[i + 1] if i + 1 < len(args) else ""
        if args[i] == "--metrics" and value.startswith("-") and not value.startswith("--"):
            out.append(f"--metrics={value}")
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


def metric_listing(pattern: str = "*") -> list[str]:
    """``spotfake list metrics``: one line per metric (label, direction, needs, card), then per group."""
    lines = []
    for name in metric_names():
        if fnmatch.fnmatchcase(name, pattern):
            m = metric_def(name)
            direction = "higher" if m.higher_is_better else "lower"
            lines.append(f"{name:<14} {m.label:<16} {direction:<6} needs {m.needs:<10} {m.card}")
    for name in metric_group_names():
        if fnmatch.fnmatchcase(name, pattern):
            group = metric_group(name)
            assert group is not None
            lines.append(f"{name:<14} group: {', '.join(group.metrics)}  ({group.description})")
    return lines
