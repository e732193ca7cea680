"""Hostile input to `spotfake report`, `robustness`, `audit` and `run --suite`: bad YAML suite and task
files, a `--data-root` that is a file, an empty folder or a name too long for the file system, output
paths that are folders or files, unreadable images. Refused input is one `spotfake: error:` line and
exit 2, never a traceback; unreadable images are counted and the command finishes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spotfake.harness import cli

LONG = "a" * 300
"""A file name longer than the file system holds (255 bytes): OSError ENAMETOOLONG on any stat."""

SUITES = {
    "not-utf8": b"\xff\xfe\x00name: s\n",
    "syntax": b"name: [\n",
    "deep": b"name: " + b"[" * 20000 + b"]" * 20000 + b"\nmetrics: [acc]\nentries: [imagefolder]\n",
    "a-list": b"- imagefolder\n",
    "papers-int": b"name: s\nmetrics: [acc]\nentries: [imagefolder]\npapers: 5\n",
    "metric-mapping": b"name: s\nmetrics: [{a: 1}]\nentries: [imagefolder]\n",
    "args-nested": b"name: s\nmetrics: [acc]\nentries: [{task: imagefolder, args: {a: [1, {b: 2}]}}]\n",
    "rows-by-list": b"name: s\nmetrics: [acc]\nentries: [{task: imagefolder, rows_by: [1]}]\n",
    "huge-file": b"#" * (1 << 20) + b"\nname: s\n",
    "alias-list": b"name: s\nmetrics: &a [acc]\nentries: [{task: imagefolder, args: {x: *a}}]\n",
}
TASKS = {
    "not-utf8": b"\xff\xfe",
    "deep": b"name: " + b"[" * 20000 + b"]" * 20000 + b"\n",
    "name-list": b"name: [1]\nversion: '1'\ndescription: d\nreader: x:y\n",
    "args-list": b"name: t\nversion: '1'\ndescription: d\nreader: x:y\nargs: [1]\n",
    "breakdowns-int": b"name: t\nversion: '1'\ndescription: d\nreader: x:y\nbreakdowns: 5\n",
    "reader-no-colon": b"name: t\nversion: '1'\ndescription: d\nreader: json\n",
}
GOOD_SUITE = b"name: good\nmetrics: [acc]\nentries: [imagefolder]\n"


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Image folders (one with unreadable images), a file, an empty folder, suite and task files."""
    for kind in ("0_real", "1_fake"):
        (tmp_path / "imgs" / kind).mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(
            tmp_path / "imgs" / "0_real" / f"r{i}.png"
        )
        fake = tmp_path / "imgs" / "1_fake" / f"f{i}.png"
        fake.write_bytes(b"\x89PNG\r\n\x1a\n truncated" if i % 2 else b"")  # unreadable images
    (tmp_path / "afile").write_text("x")
    (tmp_path / "empty").mkdir()
    for name, body in SUITES.items():
        (tmp_path / f"suite-{name}.yaml").write_bytes(body)
    for name, body in TASKS.items():
        (tmp_path / f"task-{name}.yaml").write_bytes(body)
    (tmp_path / "good.yaml").write_bytes(GOOD_SUITE)
    (tmp_path / "folder.yaml").mkdir()
    return tmp_path


def one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command; it must exit 2 with one error line, which is returned."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("spotfake: error: "), err
    return err


def robustness(world: Path, *extra: str) -> list[str]:
    argv = ["robustness", "--model", "random", "--perturb", "jpeg:90", "--quiet", "--bootstrap", "10"]
    return [*argv, "--output-dir", str(world / "out"), *extra]


def audit(*extra: str) -> list[str]:
    return ["audit", *extra]


def run_suite(world: Path, suite: str, *extra: str) -> list[str]:
    argv = ["run", "--model", "random", "--suite", suite, "--quiet", "--bootstrap", "10"]
    return [*argv, "--output-dir", str(world / "out"), *extra]


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("data root is a file", "data root not found"),
        ("data root is empty", "no images"),
        ("data root name too long", "too long"),
    ],
)
@pytest.mark.parametrize("command", ["robustness", "audit", "run --suite"])
def test_a_bad_data_root_is_one_line(
    command: str, case: str, says: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = {"data root is a file": "afile", "data root is empty": "empty", "data root name too long": LONG}[
        case
    ]
    data_root = ["--data-root", str(world / root)]
    argv = {
        "robustness": robustness(world, "--task", "imagefolder", *data_root),
        "audit": audit("--task", "imagefolder", *data_root),
        "run --suite": run_suite(world, str(world / "good.yaml"), *data_root),
    }[command]
    assert says in one_line(argv, capsys)


@pytest.mark.parametrize(("name", "says"), [(n, n.split("-")[0]) for n in SUITES] + [("folder", "not found")])
@pytest.mark.parametrize("command", ["run --suite", "report --suite"])
def test_a_bad_suite_file_is_one_line(
    command: str, name: str, says: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = str(world / ("folder.yaml" if name == "folder" else f"suite-{name}.yaml"))
    if command == "run --suite":
        argv = run_suite(world, suite, "--data-root", str(world / "imgs"))
    else:
        (world / "runs" / "m" / "t").mkdir(parents=True)
        (world / "runs" / "m" / "t" / "results.json").write_text(json.dumps(MINIMAL_RESULTS))
        argv = ["report", str(world / "runs"), "--suite", suite]
    err = one_line(argv, capsys)
    assert suite in err or "suite file not found" in err
    expected = {
        "not": "not UTF-8",
        "syntax": "malformed YAML",
        "deep": "nested too deeply",
        "a": "a suite file is a mapping",
        "papers": "'papers' must be a list",
        "metric": "must be text",
        "args": "must be text",
        "rows": "'rows_by' of 'imagefolder' must be text",
        "alias": "must be text",
        "huge": "over 1048576 bytes; not read",
        "not found": "suite file not found",
    }[says]
    assert expected in err


MINIMAL_RESULTS = {
    "schema_version": 1,
    "spotfake_version": "0",
    "source": "reproduced",
    "model": {"name": "m", "kind": "expert"},
    "task": {"name": "imagefolder", "version": "1"},
    "metrics": {"n": 4, "acc": 0.5},
    "ci": {},
    "per_category": {},
    "breakdowns": {},
    "created": "2026-01-01T00:00:00Z",
}


@pytest.mark.parametrize("name", list(TASKS))
@pytest.mark.parametrize("command", ["robustness", "audit"])
def test_a_bad_task_file_is_one_line(
    command: str, name: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = ["--task", str(world / f"task-{name}.yaml"), "--data-root", str(world / "imgs")]
    argv = robustness(world, *task) if command == "robustness" else audit(*task)
    assert f"task-{name}.yaml" in one_line(argv, capsys)


@pytest.fixture
def run_folder(world: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert cli.main(robustness(world, "--task", "imagefolder", "--data-root", str(world / "imgs"))) == 0
    capsys.readouterr()
    return world / "out"


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--output", "{empty}"], "is a folder"),
        (["--output", "{world}/nowhere/table.md"], "does not exist"),
        (["--figures", "{afile}"], "is a file, not a folder"),
        (["--figures", "{afile}/figs"], "cannot create the folder"),
    ],
)
def test_report_output_paths_that_cannot_be_written_are_one_line(
    extra: list[str], says: str, world: Path, run_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    places = {"empty": world / "empty", "afile": world / "afile", "world": world}
    argv = ["report", str(run_folder), *(e.format(**places) for e in extra)]
    assert says in one_line(argv, capsys)
    assert capsys.readouterr().out == ""  # refused before any table is printed


@pytest.mark.parametrize("target", [LONG, f"{LONG}/x", "afile/results.json/x"])
def test_report_run_folders_that_cannot_be_read_are_one_line(
    target: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert str(world) in one_line(["report", str(world / target)], capsys)


@pytest.mark.parametrize(("target", "says"), [("empty", "is a folder"), ("nowhere/a.json", "does not exist")])
def test_audit_json_paths_that_cannot_be_written_are_one_line_before_the_audit(
    target: str, says: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = audit("--task", "imagefolder", "--data-root", str(world / "imgs"), "--json", str(world / target))
    assert says in one_line(argv, capsys)
    assert capsys.readouterr().out == ""  # nothing audited


def test_unreadable_images_are_counted_and_every_command_finishes(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_root = ["--data-root", str(world / "imgs")]
    assert cli.main(audit("--task", "imagefolder", *data_root, "--json", str(tmp_path / "a.json"))) == 0
    kept = json.loads((tmp_path / "a.json").read_text())
    assert kept["classes"]["fake"]["unreadable"] == 4 and kept["classes"]["real"]["unreadable"] == 0

    argv = robustness(world, "--task", "imagefolder", *data_root)
    argv[argv.index("random")] = "npr-demo"  # a model that decodes its images (random never opens them)
    assert cli.main(argv) == 0
    assert "Acc vs jpeg" in capsys.readouterr().out
    counted = [
        json.loads(p.read_text())["metrics"]["n_errors"] for p in (world / "out").rglob("results.json")
    ]
    assert counted == [4, 4]  # clean and jpeg:90: each unreadable image is an error record

    assert cli.main(run_suite(world, str(world / "good.yaml"), *data_root)) == 0
    assert "good" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["robustness", "run --suite"])
def test_an_output_dir_that_is_a_file_is_one_line(
    command: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_root = ["--data-root", str(world / "imgs")]
    argv = (
        robustness(world, "--task", "imagefolder", *data_root)
        if command == "robustness"
        else run_suite(world, str(world / "good.yaml"), *data_root)
    )
    argv[argv.index("--output-dir") + 1] = str(world / "afile")
    assert "cannot lock run folder" in one_line(argv, capsys)


def test_a_cache_below_a_regular_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    from spotfake.harness.cli import main

    for label in ("0_real", "1_fake"):
        (tmp_path / "data" / label).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(tmp_path / "data" / label / "a.png")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("SPOTFAKE_CACHE", str(blocker / "cache"))
    argv = ["audit", "--task", "imagefolder", "--data-root", str(tmp_path / "data")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot write the image listing" in err and "SPOTFAKE_CACHE" in err and len(err.splitlines()) == 1
