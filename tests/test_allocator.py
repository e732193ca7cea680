"""glibc malloc thresholds for CPU forwards: fewer page faults, the opt-outs, the record in results.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from spotfake.harness import allocator
from spotfake.harness.cli import main

GLIBC = platform.libc_ver()[0] == "glibc"

FAULTS = """
import resource, sys
import numpy as np
from spotfake.harness.allocator import tune_cpu_allocator
if sys.argv[1] == "tuned":
    assert tune_cpu_allocator() is not None
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):  # two 20 MB buffers made and freed per step, as a forward's activations are
    x = np.ones(2_500_000)
    y = np.ones(2_500_000)
    del x, y
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _minor_faults(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("GLIBC_TUNABLES", None)
    env.pop(allocator.OPT_OUT, None)
    done = subprocess.run(
        [sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True, env=env
    )
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc's")
def test_tuned_thresholds_keep_freed_buffers_mapped() -> None:
    default, tuned = _minor_faults("default"), _minor_faults("tuned")
    assert tuned * 4 < default, (tuned, default)


@pytest.fixture()
def untuned(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as if nothing had been set yet (the real mallopt calls are idempotent)."""
    monkeypatch.setattr(allocator, "_applied", None)
    for name in (*allocator.USER_VARIABLES, allocator.OPT_OUT):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc's")
@pytest.mark.usefixtures("untuned")
def test_tune_sets_both_thresholds_once() -> None:
    applied = allocator.tune_cpu_allocator()
    assert applied == {"mmap_threshold": 32 * 1024 * 1024, "trim_threshold": 1024**3}
    assert allocator.tune_cpu_allocator() is applied
    assert allocator.allocator_settings() == applied


@pytest.mark.usefixtures("untuned")
@pytest.mark.parametrize(
    ("name", "value"),
    [("SPOTFAKE_MALLOC", "default"), ("MALLOC_TRIM_THRESHOLD_", "131072"), ("GLIBC_TUNABLES", "glibc.x=1")],
)
def test_users_own_settings_and_the_opt_out_leave_malloc_alone(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert allocator.tune_cpu_allocator() is None
    assert allocator.allocator_settings() == "default"


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc's")
@pytest.mark.usefixtures("untuned")
def test_run_records_the_allocator_in_results(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert (
        main(["run", "--model", "npr-demo", "--task", "demo", "--limit", "8", "--output-dir", str(out)]) == 0
    )
    (results,) = out.rglob("results.json")
    recorded = json.loads(results.read_text())["environment"]["malloc"]
    assert recorded == {"mmap_threshold": 32 * 1024 * 1024, "trim_threshold": 1024**3}
