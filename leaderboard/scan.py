"""Finding result files: every ``results.json`` under the committed results and the local runs.

Reading is cached per file by (modification time, size), so a page load after the first reads only what
changed. A file that cannot be read for any reason (not JSON, too deep, not the schema, a directory named
``results.json``, no permission) becomes one line in :attr:`Board.problems` and is left out; the board never
fails as a whole. Runs found twice (same run key and byte-identical records, e.g. a local run copied into
``results/``) become one row that lists both places.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from spotfake.harness.results import RESULTS_FILE, SAMPLES_FILE, read_results
from spotfake.harness.results_contract import Results
from spotfake.harness.run_identity import RunIdentity

COMMITTED = "committed"
LOCAL = "local"
ORIGIN_LABELS = {COMMITTED: "committed (results/)", LOCAL: "local run (runs/)"}


@dataclass(frozen=True)
class RunEntry:
    """One results.json (and its folder) with where it was found; ``also`` lists identical copies."""

    folder: Path
    origin: str
    results: Results
    also: tuple[tuple[str, Path], ...] = ()
    """(origin, folder) of byte-identical copies of this run merged into this row."""

    @property
    def model(self) -> str:
        """The model name as written in the file."""
        return str(self.results["model"]["name"])

    @property
    def task(self) -> str:
        """The task name."""
        return str(self.results["task"]["name"])

    @property
    def source(self) -> str:
        """reproduced / reported / submitted."""
        return str(self.results["source"])

    @property
    def kind(self) -> str:
        """lmm / expert / baseline."""
        return str(self.results["model"].get("kind", ""))

    @property
    def origins(self) -> tuple[str, ...]:
        """Where this run was found: its own origin and those of its merged copies."""
        return tuple(dict.fromkeys([self.origin, *(o for o, _ in self.also)]))

    @property
    def perturbation(self) -> str:
        """The perturbation slug of a robustness run (``jpeg75``), or "" for the clean images."""
        perturbation = self.results.get("perturbation")
        return str(perturbation["slug"]) if perturbation else ""

    @cached_property
    def identity(self) -> RunIdentity:
        """The run's identity as its results file records it."""
        return RunIdentity.from_results(self.results)

    @property
    def variant(self) -> str:
        """What tells this run from other runs of the model on the task: its model arguments
        (``random@seed=1``), its task arguments (``@split=train``) and its perturbation (``@jpeg75``); ""
        for none."""
        return self.name[len(self.identity.model) :]

    @property
    def samples_path(self) -> Path:
        """The run's ``samples.jsonl``."""
        return self.folder / SAMPLES_FILE

    @property
    def has_samples(self) -> bool:
        """Whether per-sample records exist (never for reported rows)."""
        return self.source != "reported" and self.samples_path.is_file()

    @property
    def key(self) -> str:
        """A unique, stable identifier of this row (its folder)."""
        return str(self.folder)

    @property
    def name(self) -> str:
        """The run's display name (:meth:`harness.run_identity.RunIdentity.display_name`):
        ``random@seed=1``; what tables show."""
        return self.identity.display_name()

    @property
    def label(self) -> str:
        """``model (source, origin)``: unique enough to pick a run in a list."""
        where = "committed" if COMMITTED in self.origins else "local"
        return f"{self.name} ({self.source}, {where})"


@dataclass
class Board:
    """All result rows found, and one line per file that could not be read."""

    entries: list[RunEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def tasks(self) -> list[str]:
        """Task names with at least one row: local runs' tasks first, then tasks with a run of spotfake's
        own (not only reported rows, which have no records for the other tabs), each alphabetical."""
        local = {e.task for e in self.entries if LOCAL in e.origins}
        measured = {e.task for e in self.entries if e.source != "reported"}
        return sorted({e.task for e in self.entries}, key=lambda t: (t not in local, t not in measured, t))

    def for_task(self, task: str) -> list[RunEntry]:
        """The rows of one task."""
        return [e for e in self.entries if e.task == task]


_Cached = tuple[int, int, "Results | str"]
_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def read_cached(path: Path | str, info: os.stat_result | None = None) -> Results | str:
    """The results in ``path``, or one line saying why it cannot be read; cached by mtime and size
    (``info``: the file's ``os.stat`` when the caller has it)."""
    name = os.fspath(path)
    if info is None:
        try:
            info = os.stat(name)
        except OSError as exc:
            return f"{name}: cannot read ({exc.strerror or exc})"
    stamp = (info.st_mtime_ns, info.st_size)
    with _lock:
        hit = _cache.get(name)
    if hit is not None and hit[:2] == stamp:
        return hit[2]
    value: Results | str
    if stat.S_ISDIR(info.st_mode):
        value = f"{name}: a folder named {RESULTS_FILE}, not a results file; skipped"
    else:
        try:
            value = read_results(Path(name))
        except Exception as exc:  # whatever the reason, one file never takes the board down
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            value = text if name in text else f"{name}: {text}"
    with _lock:
        _cache[name] = (*stamp, value)
    return value


def results_files(root: str | os.PathLike[str]) -> Iterator[str]:
    """Every ``results.json`` below ``root`` (a folder of that name too), in path order; hidden folders (a
    submission's ``.incoming-*`` staging) are skipped, and a folder that vanishes while walked is passed over."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if RESULTS_FILE in files or RESULTS_FILE in dirs:
            yield os.path.join(folder, RESULTS_FILE)
        if RESULTS_FILE in dirs:
            dirs.remove(RESULTS_FILE)


def scan(root: Path, origin: str, seen: set[tuple[int, int]] | None = None) -> Board:
    """Read every ``results.json`` below ``root``; unreadable ones become problems, not errors. ``seen``
    holds the (device, inode) of files already read from another root (each file counts once)."""
    board = Board()
    seen = set() if seen is None else seen
    if not root.is_dir():
        return board
    for name in results_files(root):
        try:
            info = os.stat(name)
        except OSError as exc:
            board.problems.append(f"{name}: cannot read ({exc.strerror or exc})")
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in seen:
            continue
        seen.add(identity)
        value = read_cached(name, info)
        if isinstance(value, str):
            board.problems.append(value)
        else:
            board.entries.append(RunEntry(folder=Path(os.path.dirname(name)), origin=origin, results=value))
    return board


ANSWER_FIELDS = ("id", "response", "verdict", "error")
"""What a run answered: two runs with the same key, these fields, scores within :data:`SCORE_TOLERANCE`
and metric values within :data:`METRIC_TOLERANCE` are the same run. Timings always differ, and the same
weights give scores that differ in the 7th digit from one machine or thread count to another."""
SCORE_TOLERANCE = 1e-5
METRIC_TOLERANCE = 1e-6

Answers = tuple[str, list[float | None], dict[str, object]]
"""A digest of the answer fields of every record (in order), the scores and the metric values."""


_Records = tuple[str, list[float | None]] | None
_records_cache: dict[str, tuple[int, int, _Records]] = {}


def _records(path: Path) -> _Records:
    """A digest of the answer fields and the scores of a records file, None when it cannot be read; cached
    by mtime and size like :func:`read_cached` (a page load re-reads only records that changed; the digest
    keeps long responses out of memory)."""
    from spotfake.harness.errors import SpotfakeError
    from spotfake.harness.jsonio import iter_json_lines

    name = os.fspath(path)
    try:
        info = os.stat(name)
    except OSError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    with _lock:
        hit = _records_cache.get(name)
    if hit is not None and hit[:2] == stamp:
        return hit[2]
    fields = hashlib.sha256()
    scores: list[float | None] = []
    value: _Records
    try:
        for _, obj in iter_json_lines(path, what="records file"):
            row = obj if isinstance(obj, dict) else {}
            fields.update(json.dumps([row.get(k) for k in ANSWER_FIELDS], sort_keys=True).encode() + b"\n")
            score = row.get("score")
            scores.append(float(score) if isinstance(score, (int, float)) else None)
        value = (fields.hexdigest(), scores)
    except (OSError, SpotfakeError):
        value = None
    with _lock:
        _records_cache[name] = (*stamp, value)
    return value


def _answers(entry: RunEntry) -> Answers | None:
    """The run's answers, scores and metric values; None when its records cannot be read."""
    records = _records(entry.samples_path)
    if records is None:
        return None
    return records[0], records[1], dict(entry.results.get("metrics", {}))


def _close(a: object, b: object, tolerance: float) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= tolerance
    return a == b


def same_run(a: Answers | None, b: Answers | None) -> bool:
    """Whether two runs of one run key answered the same (see :data:`ANSWER_FIELDS`)."""
    if a is None or b is None or a[0] != b[0] or a[2].keys() != b[2].keys():
        return False
    if not all(_close(x, y, SCORE_TOLERANCE) for x, y in zip(a[1], b[1], strict=True)):
        return False
    return all(_close(a[2][k], b[2][k], METRIC_TOLERANCE) for k in a[2])


def merge_identical(entries: list[RunEntry]) -> list[RunEntry]:
    """One row per run: entries with the same run key that answered the same (:func:`same_run`) are
    merged (committed first), the others kept as they are. Only entries that share a run key are read."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        key = e.results.get("run_key")
        if key and e.source != "reported":
            groups.setdefault(f"{e.source}:{key}", []).append(i)
    drop: set[int] = set()
    out = list(entries)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (entries[i].origin != COMMITTED, str(entries[i].folder)))
        answers = {i: _answers(entries[i]) for i in members}
        left = list(members)
        while left:
            keep, *rest = left
            same = [i for i in rest if same_run(answers[keep], answers[i])]
            if same:
                out[keep] = replace(
                    entries[keep], also=tuple((entries[i].origin, entries[i].folder) for i in same)
                )
                drop.update(same)
            left = [i for i in rest if i not in same]
    return [e for i, e in enumerate(out) if i not in drop]


def load_board(results_dir: Path | None, runs_dir: Path | None) -> Board:
    """Committed results and local runs together; a folder reachable from both counts as committed."""
    board = Board()
    seen: set[tuple[int, int]] = set()
    for root, origin in ((results_dir, COMMITTED), (runs_dir, LOCAL)):
        if root is None:
            continue
        part = scan(Path(root), origin, seen)
        board.entries += part.entries
        board.problems += part.problems
    board.entries = merge_identical(board.entries)
    return board
