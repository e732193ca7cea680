"""Nothing lost, nothing wrong: locked run folders, settings-keyed runs, placeholders, retried errors,
quarantined record lines, and ``spotfake score`` that never overwrites a run (issue 16, items 1-3, 7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import TOY_TASK

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.locking import FolderLock
from spotfake.harness.model import Item, LazyModel, Model
from spotfake.harness.record_store import read_tolerant
from spotfake.harness.results import read_records
from spotfake.harness.runner import RunOptions, RunOutcome, run
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response

FAST = ScoringOptions(n_bootstrap=50)


def options(tmp_path: Path, **kw: object) -> RunOptions:
    return RunOptions(output_dir=tmp_path / "runs", progress=False, scoring=FAST, **kw)  # type: ignore[arg-type]


class Flaky(Model):
    """Answers 'fake'; ids in ``failing`` get an error response (an API outage, say)."""

    kind = "lmm"
    needs_images = False

    def __init__(self, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.name = "flaky"
        self.failing = set(failing)
        self.seen: list[str] = []

    def predict(self, items: Sequence[Item]) -> list[Response]:
        self.seen.extend(i.sample.id for i in items)
        return [
            Response(error="HTTP 503 after 3 tries") if i.sample.id in self.failing else Response(text="fake")
            for i in items
        ]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_second_writer_is_refused_with_the_holders_pid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "runs" / "always-real" / "toy"
    argv = ["run", "--model", "always-real", "--task", str(TOY_TASK), "--output-dir", str(tmp_path / "runs")]
    with FolderLock(folder, what="run folder"):
        code, _, err = cli(capsys, *argv, "--quiet", "--bootstrap", "0")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(folder) in err and f"pid {os.getpid()}" in err
    assert not (folder / "results.json").exists()  # nothing written by the refused run
    assert cli(capsys, *argv, "--quiet", "--bootstrap", "0")[0] == 0  # released on exit


def test_a_lock_left_by_a_killed_process_is_stale(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from spotfake.harness.locking import FolderLock
        lock = FolderLock(Path({str(folder)!r}), what="run folder").acquire()
        print("held", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(SpotfakeError, match=rf"run folder {folder} is in use by pid {proc.pid}"):
            FolderLock(folder, what="run folder").acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with FolderLock(folder, what="run folder") as lock:  # the dead holder's file is taken over
        assert lock.held


def test_placeholders_never_count_as_done(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 6})
    first = run(Flaky(), {}, task, options(tmp_path))
    path = first.folder / "samples.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for row in lines[:4]:  # what a concurrent second writer used to leave: its key, no answer
        row.update(response=None, score=None, error=None, verdict=None, correct=None)
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    again = Flaky()
    outcome = run(again, {}, task, options(tmp_path))
    assert sorted(again.seen) == sorted(r["id"] for r in lines[:4])
    assert outcome.results is not None and outcome.results["metrics"]["n_missing"] == 0


def test_error_records_are_retried_unless_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 6})
    outage = run(Flaky({"s00001", "s00004"}), {}, task, options(tmp_path))
    assert outage.results is not None and outage.results["metrics"]["n_errors"] == 2
    kept = Flaky()
    assert run(kept, {}, task, options(tmp_path, retry_errors=False)).n_predicted == 0 and not kept.seen
    back = Flaky()
    outcome = run(back, {}, task, options(tmp_path))
    assert sorted(back.seen) == ["s00001", "s00004"] and outcome.n_retried == 2
    assert "retrying 2 sample(s)" in caplog.text
    assert outcome.results is not None and outcome.results["metrics"]["n_errors"] == 0


def test_runs_with_other_arguments_never_overwrite_each_other(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def go(seed: str) -> dict[str, object]:
        argv = ["run", "--model", "random", "--model-args", f"seed={seed}", "--task", str(TOY_TASK)]
        assert cli(capsys, *argv, "--output-dir", str(tmp_path), "--quiet", "--bootstrap", "0")[0] == 0
        data: dict[str, object] = json.loads(
            (tmp_path / f"random@seed={seed}" / "toy" / "results.json").read_text()
        )
        return data

    zero = go("0")
    one = go("1")
    assert zero["run_key"] != one["run_key"]
    assert (tmp_path / "random@seed=0" / "toy" / "results.json").is_file()
    task = load_task(str(TOY_TASK))
    model = LazyModel("random", {"seed": "0"})
    back = run(model, {"seed": "0"}, task, RunOptions(output_dir=tmp_path, progress=False))
    assert back.n_predicted == 0 and not back.model_built and not model.built
    assert back.results is not None and back.results["run_key"] == zero["run_key"]


def test_runs_with_other_task_arguments_never_overwrite_each_other(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def go(*task_args: str) -> None:
        argv = ["run", "--model", "random", "--task", str(TOY_TASK), *task_args]
        assert cli(capsys, *argv, "--output-dir", str(tmp_path), "--quiet", "--bootstrap", "0")[0] == 0

    go()
    default = (tmp_path / "random" / "toy" / "results.json").read_bytes()
    go("--task-args", "n=7")
    seven = (tmp_path / "random" / "toy@n=7" / "results.json").read_bytes()
    go("--task-args", "n=20")  # the task's default value: the default run, in the default folder
    assert sorted(p.name for p in (tmp_path / "random").iterdir()) == ["toy", "toy@n=7"]
    assert (tmp_path / "random" / "toy" / "results.json").read_bytes() == default
    assert (tmp_path / "random" / "toy@n=7" / "results.json").read_bytes() == seven
    results = {name: json.loads(b) for name, b in (("toy", default), ("toy@n=7", seven))}
    assert results["toy"]["run_key"] != results["toy@n=7"]["run_key"]
    assert (results["toy"]["task"]["n"], results["toy@n=7"]["task"]["n"]) == (20, 7)
    task = load_task(str(TOY_TASK), task_args={"n": "7"})
    back = run(LazyModel("random", {}), {}, task, RunOptions(output_dir=tmp_path, progress=False))
    assert back.folder == tmp_path / "random" / "toy@n=7" and back.n_predicted == 0 and not back.model_built
    assert back.results is not None and back.results["run_key"] == results["toy@n=7"]["run_key"]


def test_the_board_names_runs_with_other_task_arguments_apart() -> None:
    from spotfake.harness.run_identity import RunIdentity
    from spotfake.leaderboard.scan import RunEntry

    def name(model_args: dict[str, str], task_args: dict[str, str], perturbation: str | None = None) -> str:
        task = {"name": "toy", "args": {"n": "20", **task_args}, "default_args": {"n": "20"}}
        results: dict[str, object] = {"model": {"name": "random", "args": model_args}, "task": task}
        if perturbation:
            results["perturbation"] = {"spec": perturbation, "slug": perturbation.replace(":", "")}
        entry = RunEntry(Path("anywhere"), "local", results)  # type: ignore[arg-type]
        # the board's name, the report's and the folder's suffixes all come from one identity
        identity = RunIdentity.from_results(results)
        assert entry.name == identity.display_name()
        folder = identity.folder(Path("runs"))
        assert entry.name == folder.parent.name + folder.name[len("toy") :]
        return entry.name

    names = [
        name({}, {}),
        name({}, {"n": "7"}),
        name({}, {}, "jpeg:50"),
        name({}, {"n": "7"}, "jpeg:50"),
        name({"seed": "1"}, {"n": "7"}, "jpeg:50"),
    ]
    assert names == ["random", "random@n=7", "random@jpeg50", "random@n=7@jpeg50", "random@seed=1@n=7@jpeg50"]


def test_a_bad_line_in_the_middle_is_quarantined_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 8})
    first = run(Flaky(), {}, task, options(tmp_path))
    path = first.folder / "samples.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"id": "s00003", "respo\n'
    path.write_text("".join(lines))
    again = Flaky()
    outcome = run(again, {}, task, options(tmp_path))
    assert again.seen == ["s00003"]  # the 7 good records around it are kept
    assert (first.folder / "samples.jsonl.line4.bad").read_text() == '{"id": "s00003", "respo\n'
    assert "1 malformed line(s) moved aside (line 4" in caplog.text
    assert outcome.results is not None and outcome.results["metrics"]["n_missing"] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("label", None, None),
        ("metadata", None, "'metadata' must be an object of strings, got null"),
        ("response", 5, "'response' must be a string or null, got a number"),
        ("score", "high", "'score' must be a finite number or null, got a string"),
    ],
)
def test_wrong_typed_record_fields_are_one_line_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: object, message: str | None
) -> None:
    argv = ["run", "--model", "always-fake", "--task", str(TOY_TASK), "--output-dir", str(tmp_path)]
    argv += ["--quiet", "--bootstrap", "0"]
    assert cli(capsys, *argv)[0] == 0
    path = tmp_path / "always-fake" / "toy" / "samples.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    if value is None and field == "label":
        del rows[2]["label"]  # a missing label is fine: labels always come from the task
    else:
        rows[2][field] = value
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = cli(capsys, *argv)
    if message is None:
        assert code == 0
        return
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{path} line 3 (sample 's00002'): {message}" in err


def test_score_never_overwrites_a_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    base = ["--task", str(TOY_TASK), "--output-dir", str(runs), "--bootstrap", "0"]
    assert cli(capsys, "run", "--model", "always-fake", *base, "--quiet")[0] == 0
    folder = runs / "always-fake" / "toy"
    before = (folder / "results.json").read_bytes()
    preds = tmp_path / "always-fake.jsonl"  # named like the run: the old default name collided
    preds.write_text(json.dumps({"id": "s00000", "response": "real"}) + "\n")
    code, _, err = cli(capsys, "score", "--predictions", str(preds), *base)
    assert code == 2 and "already holds another run" in err and "--replace" in err
    assert (folder / "results.json").read_bytes() == before
    assert cli(capsys, "score", "--predictions", str(preds), *base)[0] == 2  # still refused
    for bad in ("..", "../escape", "a/b", ""):
        code, _, err = cli(capsys, "score", "--predictions", str(preds), "--model-name", bad, *base)
        assert code == 2 and "not a plain name" in err, bad
    assert not (tmp_path / "escape").exists()
    code, _, _ = cli(capsys, "score", "--predictions", str(preds), "--replace", *base)
    assert code == 0
    kept = list(folder.glob("samples.previous-*.jsonl"))
    assert len(kept) == 1 and len(read_records(kept[0])) == 20  # the run's records, not lost
    again = cli(capsys, "score", "--predictions", str(preds), *base)  # same predictions: no replacement
    assert again[0] == 0


def test_each_earlier_run_key_keeps_its_own_file(tmp_path: Path) -> None:
    task = load_task(str(TOY_TASK), task_args={"n": 4})
    keys = []
    for variant in ("a", "b", "c"):
        model = Flaky()
        model.settings = lambda v=variant: {"variant": v}  # type: ignore[method-assign,misc]
        outcome = run(model, {}, task, options(tmp_path))
        assert outcome.results is not None
        keys.append(outcome.results["run_key"])
    kept = sorted(p.name for p in outcome.folder.glob("samples.previous-*.jsonl"))
    assert kept == sorted(f"samples.previous-{k}.jsonl" for k in keys[:2])
    for key in keys[:2]:
        records = read_records(outcome.folder / f"samples.previous-{key}.jsonl")
        assert len(records) == 4 and {r.run_key for r in records} == {key}


def test_the_launch_index_never_decides_when_the_model_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spotfake.adapters.baselines import RandomGuess

    task = load_task(str(TOY_TASK), task_args={"n": 6})
    opts = RunOptions(output_dir=tmp_path, progress=False, scoring=FAST)
    first = run(LazyModel("random", {"seed": "0"}), {"seed": "0"}, task, opts)
    assert first.results is not None and first.model_built
    path = first.folder / "samples.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:3]))  # half the records gone
    monkeypatch.setattr(RandomGuess, "settings", lambda self: {"seed": self.seed, "changed": True})
    again = run(LazyModel("random", {"seed": "0"}), {"seed": "0"}, task, opts)
    assert again.model_built and again.n_predicted == 6  # the new fingerprint's key: nothing reused
    assert again.results is not None and again.results["run_key"] != first.results["run_key"]
    assert (first.folder / f"samples.previous-{first.results['run_key']}.jsonl").is_file()


def test_a_resumed_run_with_nothing_new_reads_its_results_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    task = load_task(str(TOY_TASK), task_args={"n": 6})
    opts = RunOptions(output_dir=tmp_path, progress=False, scoring=FAST)
    first = run(LazyModel("random", {"seed": "0"}), {"seed": "0"}, task, opts)
    opened: list[str] = []
    real_os_open, real_io_open = os.open, io.open

    def os_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(path))
        return real_os_open(path, *args, **kwargs)

    def io_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(path) if isinstance(path, (str, os.PathLike)) else "")
        return real_io_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)
    again = run(LazyModel("random", {"seed": "0"}), {"seed": "0"}, task, opts)
    monkeypatch.undo()
    assert not again.model_built and again.n_predicted == 0 and again.results == first.results
    assert [p for p in opened if Path(p).name == "results.json"] == [str(first.folder / "results.json")]


def test_two_real_runs_into_one_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Issue case 1 end to end: while one `spotfake run` writes a folder, a second (other batch size) is
    refused with the first's pid and writes nothing; killing the first releases the folder."""
    import time

    runs = tmp_path / "runs"
    base = ["run", "--model", "random", "--task", str(TOY_TASK), "--task-args", "n=200000"]
    base += ["--output-dir", str(runs), "--quiet", "--bootstrap", "0"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TOY_TASK.parent), *sys.path])}
    first = subprocess.Popen(
        [sys.executable, "-m", "spotfake.harness.cli", *base, "--batch-size", "64"], env=env
    )
    folder = runs / "random" / "toy@n=200000"  # the task folder carries the non-default task args
    lock = folder / ".spotfake.lock"
    records = folder / "samples.jsonl"
    try:
        deadline = time.monotonic() + 120
        while not (records.exists() and records.stat().st_size > 0) and time.monotonic() < deadline:
            assert first.poll() is None, "the first run ended before it could be raced"
            time.sleep(0.1)
        assert lock.read_text().startswith(f"{first.pid} ")
        # The same folder: same model, model args, task and task args (only the batch size differs).
        code, _, err = cli(capsys, *base, "--batch-size", "8")
        assert code == 2 and f"in use by pid {first.pid}" in err and len(err.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert not (folder / "results.json").exists()
    assert read_tolerant(records)  # the killed run's records are there for the next run to reuse
    with FolderLock(lock.parent, what="run folder") as taken:  # and its lock died with it
        assert taken.held


def test_records_another_rank_added_are_merged_when_rank_0_had_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spotfake.harness import distributed

    task = load_task(str(TOY_TASK), task_args={"n": 6})
    opts = RunOptions(output_dir=tmp_path, progress=False, scoring=FAST)
    monkeypatch.setattr(distributed, "barrier", lambda ctx: None)

    def as_rank(rank: int) -> RunOutcome:
        monkeypatch.setattr(distributed, "current", lambda: distributed.DistContext(rank=rank, world_size=2))
        return run(LazyModel("random", {"seed": "0"}), {"seed": "0"}, task, opts)

    first = as_rank(0)  # rank 1 never came: its half is missing
    assert first.results is not None and first.n_predicted == 3
    assert as_rank(1).n_predicted == 3  # rank 1's half, in its own records file
    again = as_rank(0)
    assert again.n_predicted == 0 and again.results is not None
    assert not list(again.folder.glob("samples.rank*.jsonl"))  # merged
    records = read_records(again.folder / "samples.jsonl")
    assert len(records) == 6 and all(r.response is not None or r.score is not None for r in records)
