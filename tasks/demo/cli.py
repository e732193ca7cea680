"""``spotfake demo build`` and ``spotfake demo verify`` (plugged in through ``spotfake.commands``).

Only light imports at module level: torch is imported by the build itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from spotfake.harness.extras import require
from spotfake.tasks.demo import DATA_DIR


def register_build(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``spotfake demo build``."""
    parser.description = "Rebuild the demo set (real crops, generators trained here, clues) from a seed."
    parser.add_argument(
        "--seed", type=int, required=True, help="seed of every random choice (committed set: 0)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DATA_DIR,
        help="folder to write (default: the package's data folder, replaced as a whole)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(3, os.cpu_count() or 1),
        help="generator families trained in parallel, one thread each (output does not depend on it)",
    )
    parser.add_argument(
        "--profile",
        choices=("full", "small"),
        default="full",
        help="'full' is the committed set; 'small' is a seconds-long smoke build",
    )
    parser.set_defaults(handler=_build)


def register_verify(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``spotfake demo verify``."""
    parser.description = "Recompute the sha256 of every demo file and compare with the manifest."
    parser.add_argument(
        "--data-root", type=Path, default=DATA_DIR, help="folder to check (default: the package's)"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="manifest to check against (default: DATA_ROOT/manifest.json); pass the committed "
        "one to check a rebuild",
    )
    parser.set_defaults(handler=_verify)


def _build(args: argparse.Namespace) -> int:
    require("skimage", "train", "spotfake demo build")  # scikit-image's photographs are the real crops
    from spotfake.tasks.demo.build import build
    from spotfake.tasks.demo.config import PROFILES

    if args.jobs < 1:
        print("--jobs must be at least 1", file=sys.stderr)
        return 2
    build(
        args.output,
        args.seed,
        jobs=args.jobs,
        config=PROFILES[args.profile](),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from spotfake.tasks.demo.manifest import verify

    result = verify(args.data_root, args.manifest)
    for label, paths in (
        ("missing", result.missing),
        ("unexpected", result.extra),
        ("changed", result.changed),
    ):
        for path in paths[:20]:
            print(f"{label}: {path}")
        if len(paths) > 20:
            print(f"... and {len(paths) - 20} more {label}")
    if result.ok:
        print(f"ok: {result.checked} files match the manifest")
        return 0
    print(
        f"FAILED: {len(result.missing)} missing, {len(result.extra)} unexpected, {len(result.changed)} changed "
        f"of {result.checked + len(result.missing)} in the manifest"
    )
    return 1
