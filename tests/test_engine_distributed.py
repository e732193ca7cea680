"""torchrun with two CPU processes (gloo) gives the same records and metrics as one process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TESTS_DIR, TOY_TASK


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spotfake(args: list[str], procs: int, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR), "OMP_NUM_THREADS": "1"}
    if procs == 1:
        cmd = [sys.executable, "-m", "spotfake.harness.cli", *args]
    else:
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(procs),
            "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "-m", "spotfake.harness.cli", *args,
        ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, timeout=300)


def load(folder: Path) -> tuple[list[dict[str, object]], dict[str, object]]:
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    return records, json.loads((folder / "results.json").read_text())


@pytest.mark.slow
def test_two_processes_match_one(tmp_path: Path) -> None:
    common = [
        "run",
        "--model",
        "random",
        "--task",
        str(TOY_TASK),
        "--task-args",
        "n=41",
        "--bootstrap",
        "200",
        "--quiet",
    ]
    one = spotfake([*common, "--output-dir", "one"], 1, tmp_path)
    assert one.returncode == 0, one.stderr
    two = spotfake([*common, "--output-dir", "two", "--batch-size", "3"], 2, tmp_path)
    assert two.returncode == 0, two.stderr
    rec1, res1 = load(tmp_path / "one" / "random" / "toy@n=41")
    rec2, res2 = load(tmp_path / "two" / "random" / "toy@n=41")
    strip = ("latency_s",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in rec1] == [
        {k: v for k, v in r.items() if k not in strip} for r in rec2
    ]
    assert res1["metrics"] == res2["metrics"] and res1["ci"] == res2["ci"]
    assert res2["timing"]["world_size"] == 2
    assert not list((tmp_path / "two" / "random" / "toy@n=41").glob("samples.rank*.jsonl"))


@pytest.mark.slow
def test_resume_after_changing_the_number_of_ranks(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "random" / "toy@n=10"
    common = [
        "run",
        "--model",
        "random",
        "--task",
        str(TOY_TASK),
        "--bootstrap",
        "50",
        "--quiet",
        "--output-dir",
        "runs",
    ]
    first = spotfake([*common, "--task-args", "n=10"], 2, tmp_path)
    assert first.returncode == 0, first.stderr
    # A 2-rank run that was killed leaves per-rank files; fake that by splitting the merged file.
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").unlink()
    (out / "samples.rank0.jsonl").write_text("".join(lines[0:4]))
    (out / "samples.rank1.jsonl").write_text("".join(lines[5:9]))
    again = spotfake([*common, "--task-args", "n=10"], 1, tmp_path)
    assert again.returncode == 0, again.stderr
    records, results = load(out)
    assert [r["id"] for r in records] == [f"s{i:05d}" for i in range(10)]
    assert results["timing"]["n_predicted"] == 2 and results["timing"]["n_reused"] == 8
