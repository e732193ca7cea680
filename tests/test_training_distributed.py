"""The same training command, data-parallel on two CPU processes (torchrun, gloo), writes one model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from fixtures.tiny_models import build_tiny_llava
from fixtures.training.fakeclue import CORPUS, write_fakeclue
from safetensors.torch import load_file


@pytest.mark.slow
def test_two_cpu_processes_train_one_model(tmp_path: Path) -> None:
    base = build_tiny_llava(tmp_path / "base", corpus=CORPUS)
    data = write_fakeclue(tmp_path / "data", n=16)
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "spotfake.adapters.fakevlm.train_cli", "--base", str(base), "--data-root", str(data), "--output", str(out),
        "--max-steps", "4", "--lr", "3e-3", "--batch-size", "2", "--global-batch-size", "8", "--num-workers", "0",
        "--log-steps", "1", "--save-steps", "2", "--cpu", "--prompt-format", "raw",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Only rank 0 reports, logs and saves.
    assert proc.stdout.count("trained 4 steps") == 1
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 2, 3, 4]
    assert [e["samples"] for e in log] == [8, 16, 24, 32]  # both ranks' samples counted once each
    summary = json.loads((out / "training_summary.json").read_text())
    plan = summary["plan"]
    assert plan["world_size"] == 2 and plan["grad_accum"] == 2 and plan["global_batch_size"] == 8
    assert plan["batches_per_epoch"] == 4  # 16 examples / (batch 2 x 2 ranks)
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".safetensors") == ["model.safetensors"]
    assert not (out / "checkpoints").exists()
    trained, initial = load_file(out / "model.safetensors"), load_file(base / "model.safetensors")
    assert any(not trained[k].equal(initial[k]) for k in trained)
    assert log[-1]["loss"] < log[0]["loss"]
