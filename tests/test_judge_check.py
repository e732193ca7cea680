"""``spotfake judge-check`` on the demo suite against the loopback judge."""

from __future__ import annotations

import json

import pytest
from conftest import REPO_ROOT
from fixtures.judge_server import JudgeServer

from spotfake.harness.cli import main

DEMO_RUN = REPO_ROOT / "results" / "reproduced" / "fakevlm-demo" / "demo"


def test_judge_check_separates_reference_from_mismatched(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    with JudgeServer() as server:
        args = f"base_url={server.base_url},model=loopback-judge,concurrency=4"
        argv = ["judge-check", "--judge-model", "openai", "--judge-args", args, "--run", str(DEMO_RUN),
                "--limit", "12", "--judge-cache", str(tmp_path / "c"), "--json"]  # fmt: skip
        assert main(argv) == 0
        report = json.loads(capsys.readouterr().out)
        sent = server.state.requests
        assert main([*argv[:-1]]) == 0  # table form, all from the cache
        assert server.state.requests == sent
    table = capsys.readouterr().out
    assert "AUC reference_vs_mismatched" in table and "Kendall tau with css" in table
    assert report["n_samples"] == 24 and report["n_graded"] == 72 and report["n_failures"] == 0
    assert report["auc"]["reference_vs_mismatched"] == 1.0
    assert report["auc"]["model_vs_mismatched"] > 0.8
    assert report["mean"]["reference"] > report["mean"]["model"] > report["mean"]["mismatched"]
    assert report["kendall_tau"]["rouge_l"] > 0.3 and report["kendall_tau"]["css"] > 0.0


def test_judge_check_needs_a_run_of_the_same_task(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["judge-check", "--judge-model", "openai", "--judge-args", "model=m", "--task", "demo",
                 "--run", str(tmp_path), "--no-css"])  # fmt: skip
    assert code == 2 and "not a run folder" in capsys.readouterr().err
