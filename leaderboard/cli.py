"""``spotfake leaderboard`` and ``spotfake submit`` (plugged in through the ``spotfake.commands`` entry points).

Only light imports at module level: the CLI builds its parser for every command.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.extras import require

APP = Path(__file__).with_name("app.py")
HOST = "127.0.0.1"
METADATA_FIELDS = ("description", "paper", "code", "contact", "licence", "parameters")
"""``spotfake submit --description ... --licence``: the fields of
:data:`leaderboard.submission.metadata.FIELDS` (spelt here: the parser is built for every command)."""


def register_leaderboard(parser: argparse.ArgumentParser) -> None:
    """Start the leaderboard app (Streamlit) on 127.0.0.1 over results/ and runs/."""
    parser.add_argument("--results-dir", default="results", help="committed results (default: results/)")
    parser.add_argument("--runs-dir", default="runs", help="local runs (default: runs/)")
    parser.add_argument(
        "--data-root",
        action="append",
        default=[],
        metavar="[TASK=]DIR",
        help="task data for images and references (and for checking uploads); repeat as TASK=DIR per task",
    )
    parser.add_argument(
        "--host",
        default=HOST,
        help="address to listen on (default 127.0.0.1; 0.0.0.0 serves every interface: see docs/hosting.md)",
    )
    parser.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    parser.add_argument(
        "--no-submissions",
        action="store_true",
        help="no upload form (a read-only board over read-only results)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument(
        "--arena-db",
        help="the board's database (arena votes, submission owner tokens): a SQLAlchemy URL or a SQLite "
        "file (default RUNS_DIR/arena.sqlite3)",
    )
    parser.add_argument(
        "--arena-min-votes",
        type=int,
        default=30,
        metavar="N",
        help="votes a model needs before the arena shows its rating (default 30)",
    )
    parser.add_argument(
        "--held-out-labels",
        action="append",
        default=[],
        metavar="TASK=FILE",
        help="serve TASK with its labels held out: FILE (CSV id,label, outside --results-dir) stays on this "
        "host, submissions are scored against it, only aggregate metrics are shown (repeatable)",
    )
    _css_clip_option(parser)
    parser.set_defaults(handler=cmd_leaderboard)


def _css_clip_option(parser: argparse.ArgumentParser) -> None:
    """``--css-clip-model DIR``, which the board and ``spotfake submit`` both take."""
    parser.add_argument(
        "--css-clip-model",
        metavar="DIR",
        help="a local copy of openai/clip-vit-large-patch14, to recompute submissions scored with css_clip77 "
        "(without it they are refused)",
    )


def register_submit(parser: argparse.ArgumentParser) -> None:
    """Check a run folder by recomputing its metrics and store it as a submitted result."""
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="a run folder holding results.json and samples.jsonl"
    )
    parser.add_argument(
        "--results-dir", default="results", help="where accepted submissions go (default: results/)"
    )
    parser.add_argument(
        "--data-root", help="the task's data, as for `spotfake run` (ground truth comes from it)"
    )
    parser.add_argument(
        "--replace", action="store_true", help="replace a stored submission of the same model and task"
    )
    parser.add_argument(
        "--token",
        help="the owner token printed when this model name was first submitted (needed to replace it or "
        "to submit under the name again)",
    )
    parser.add_argument(
        "--arena-db",
        help="the board's database, where owner tokens are kept (as `spotfake leaderboard --arena-db`; "
        "default runs/arena.sqlite3)",
    )
    parser.add_argument(
        "--held-out-labels",
        metavar="FILE",
        help="the task's private labels (CSV id,label, outside --results-dir): score against them and store "
        "no per-sample records (docs/hosting.md)",
    )
    _css_clip_option(parser)
    for field in METADATA_FIELDS:
        parser.add_argument(f"--{field}", help=f"the model's {field}, stored with the submission")
    parser.set_defaults(handler=cmd_submit)


HEADING_SIZES = '["2rem"]'
"""The page title's size (h1 only): one line on a 390 px phone, so its first screen reaches the table."""


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` command line: headless, loopback only, no telemetry, no file watching."""
    from spotfake.leaderboard.received import Limits

    upload_mb = max(1, Limits().archive_bytes // 2**20)
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", args.host,
        "--server.port", str(args.port),
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
        "--theme.headingFontSizes", HEADING_SIZES,
        "--runner.magicEnabled", "false",
        "--server.runOnSave", "false",
        "--server.maxUploadSize", str(upload_mb),
        "--browser.gatherUsageStats", "false",
        "--browser.serverAddress", HOST if args.host in ("0.0.0.0", "::") else args.host,
        "--global.developmentMode", "false",
        "--",
        "--results-dir", str(Path(args.results_dir).resolve()),
        "--runs-dir", str(Path(args.runs_dir).resolve()),
        "--arena-db", _arena_db(getattr(args, "arena_db", None), args.runs_dir),
        "--arena-min-votes", str(getattr(args, "arena_min_votes", 30)),
    ]  # fmt: skip
    if getattr(args, "no_submissions", False):
        command.append("--no-submissions")
    if getattr(args, "css_clip_model", None):
        command += ["--css-clip-model", str(Path(args.css_clip_model).resolve())]
    for value in getattr(args, "held_out_labels", []):
        task, _, path = value.partition("=")
        command += ["--held-out-labels", f"{task}={Path(path).resolve()}"]
    for root in args.data_root:
        task, sep, folder = root.partition("=")
        command += [
            "--data-root",
            f"{task}={Path(folder).resolve()}" if sep and task else str(Path(root).resolve()),
        ]
    return command


def _arena_db(value: str | None, runs_dir: str) -> str:
    """The arena database for the app: a URL as given, else an absolute SQLite file path."""
    if value and "://" in value:
        return value
    return str(Path(value or Path(runs_dir) / "arena.sqlite3").resolve())


def wait_until_healthy(url: str, timeout_s: float = 60.0) -> bool:
    """Poll Streamlit's ``/_stcore/health`` until it answers ``ok`` (True) or the time is up (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Run the app until interrupted; open a browser on it unless ``--no-browser``."""
    if not 1 <= args.port <= 65535:
        raise SpotfakeError(f"--port must be between 1 and 65535, got {args.port}")
    if args.arena_min_votes < 1:
        raise SpotfakeError(f"--arena-min-votes must be at least 1, got {args.arena_min_votes}")
    _check_held_out(args.held_out_labels, Path(args.results_dir))
    require("streamlit", "leaderboard", "spotfake leaderboard")
    shown = HOST if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{shown}:{args.port}"
    print(f"spotfake leaderboard: {url}  (Ctrl-C to stop)", file=sys.stderr)
    if args.host not in (HOST, "localhost", "::1"):
        print(
            f"spotfake leaderboard: listening on {args.host}: anyone who can reach it can read the board"
            + ("" if args.no_submissions else " and upload submissions")
            + "; there is no login (docs/hosting.md)",
            file=sys.stderr,
        )
    process = subprocess.Popen(streamlit_command(args), preexec_fn=_die_with_parent)
    if not args.no_browser:
        threading.Thread(target=lambda: wait_until_healthy(url) and webbrowser.open(url), daemon=True).start()
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop_server(process)
        return 0
    except _Stop as stop:
        stop_server(process)
        return 128 + stop.signum
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_held_out(values: list[str], results_dir: Path) -> None:
    """Every ``--held-out-labels TASK=FILE`` readable and outside the results folder, before the app starts."""
    if not values:
        return
    from spotfake.leaderboard.config import parse_held_out
    from spotfake.leaderboard.submission.heldout import read_held_out

    for path in parse_held_out(values).values():
        read_held_out(path, results_dir)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals (besides Ctrl-C) that stop the server and its Streamlit child."""


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def _die_with_parent() -> None:
    """In the Streamlit child (Linux): get SIGTERM when the parent dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_server(process: subprocess.Popen[bytes], timeout_s: float = 4.0) -> None:
    """Terminate the Streamlit child and wait for it (killed if it does not stop within ``timeout_s``)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cmd_submit(args: argparse.Namespace) -> int:
    """Check ``RUN_DIR`` and store it under ``--results-dir``; a refusal is one line naming the reason."""
    for module in ("pandas", "altair"):  # the accepted line is printed as the board shows it
        require(module, "leaderboard", "spotfake submit")
    require("sqlalchemy", "leaderboard", "spotfake submit")  # owner tokens live in the board's database
    from spotfake.leaderboard.data import DEFAULT_SHOWN
    from spotfake.leaderboard.received import files_from_folder
    from spotfake.leaderboard.submission import submit
    from spotfake.leaderboard.submission.heldout import read_held_out
    from spotfake.leaderboard.submission.owners import OwnerStore
    from spotfake.leaderboard.views import summary_text

    results_dir = Path(args.results_dir)
    try:
        files = files_from_folder(Path(args.run_dir))
        held_out = read_held_out(Path(args.held_out_labels), results_dir) if args.held_out_labels else None
        owners = OwnerStore(args.arena_db)
        try:
            folder, checked = submit(
                files,
                results_dir,
                data_root=Path(args.data_root) if args.data_root else None,
                replace=args.replace,
                owners=owners,
                token=args.token,
                metadata={field: getattr(args, field) for field in METADATA_FIELDS},
                held_out=held_out,
                css_clip_model=Path(args.css_clip_model) if args.css_clip_model else None,
            )
        finally:
            owners.close()
    except SpotfakeError as exc:
        raise SpotfakeError(f"submission refused: {exc}{_cli_hint(exc, results_dir)}") from None
    shown = summary_text(checked.results["metrics"], DEFAULT_SHOWN)
    print(f"accepted: {checked.model} on {checked.task} ({shown})")
    print(f"stored in {folder}")
    if checked.owner_token:
        print(
            f"owner token for {checked.model!r} (shown once; replacing this submission or submitting under "
            f"this name again needs it: --token): {checked.owner_token}"
        )
    return 0


def _cli_hint(exc: SpotfakeError, results_dir: Path) -> str:
    """What the command line adds to a refusal the app words for an uploader (options and paths)."""
    from spotfake.leaderboard.submission.owners import OwnerError, UnownedLegacyError
    from spotfake.leaderboard.submission.store import SUBMITTED_DIR, AlreadyStored
    from spotfake.leaderboard.submission.verify import NeedsClip

    if isinstance(exc, NeedsClip):
        return "; or, on the board's side, set --css-clip-model DIR"
    if isinstance(exc, AlreadyStored):
        return f" ({exc.folder}); add --replace --token TOKEN to replace it"
    if isinstance(exc, OwnerError):
        return " (--token TOKEN)"
    if isinstance(exc, UnownedLegacyError):
        return f" (the folders {results_dir / SUBMITTED_DIR / exc.name}[@...])"
    return ""
