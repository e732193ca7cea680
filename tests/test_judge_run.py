"""``spotfake judge`` against a real loopback judge server (HTTP on 127.0.0.1, 429/500 on a schedule)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, TOY_TASK
from fixtures.judge_server import JudgeServer, JudgeServerState

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.judge.run import judge_run
from spotfake.harness.judge.settings import parse_judge

DEMO_RUN = REPO_ROOT / "results" / "reproduced" / "fakevlm-demo" / "demo"
SECRET = "sk-test-Judge0123456789secret"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs" / "fakevlm-demo" / "demo"
    shutil.copytree(DEMO_RUN, folder)
    (folder / "judge.jsonl").unlink(missing_ok=True)
    return folder


def _args(server: JudgeServer, extra: str = "") -> str:
    return (
        f"base_url={server.base_url},model=loopback-judge,concurrency=8,backoff=0.01,backoff_max=0.05{extra}"
    )


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_judge_fills_metrics_then_a_second_call_sends_nothing(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPOTFAKE_JUDGE_API_KEY", SECRET)
    cache = tmp_path / "judge-cache"
    with JudgeServer(JudgeServerState(fail_every=9)) as server:
        argv = [
            "judge",
            str(run_dir),
            "--judge-model",
            "openai",
            "--judge-args",
            _args(server),
            "--judge-cache",
            str(cache),
        ]
        assert main(argv) == 0
        first = server.state.requests
        assert server.state.authorization == {f"Bearer {SECRET}"}
        body = server.state.bodies[0]
        assert body["temperature"] == 0 and body["response_format"]["type"] == "json_schema"
        assert body["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
        assert main(argv) == 0
        assert server.state.requests == first  # the second call sent 0 requests
    out = capsys.readouterr().out.splitlines()
    assert "0 requests, 480 from cache" in out[-1]
    results = json.loads((run_dir / "results.json").read_text())
    metrics = results["metrics"]
    assert metrics["n_judged"] == 480 and metrics["n_judge_failures"] == 0
    for name in ("judge", "judge_gated"):
        lo, hi = results["ci"][name]
        assert lo <= metrics[name] <= hi
        assert all(name in group for group in results["per_category"].values())
        assert all(name in group for group in results["breakdowns"]["generator"].values())
    assert metrics["judge_gated"] <= metrics["judge"]
    judge = results["scoring"]["judge"]
    assert judge["endpoint_host"].startswith("127.0.0.1:") and judge["rubric_version"] == "2"
    assert len(judge["prompt_sha256"]) == 64 and judge["usage"]["total_tokens"] > 0
    lines = _lines(run_dir / "judge.jsonl")
    assert len(lines) == 480 and len({line["id"] for line in lines}) == 480
    assert all(line["judge"] == (line["score"] - 1) / 4 for line in lines)
    for path in [*tmp_path.rglob("*")]:
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_invalid_and_out_of_range_replies_are_counted_failures(run_dir: Path, tmp_path: Path) -> None:
    state = JudgeServerState(invalid=("checkerboard",), out_of_range=("periodic",))
    with JudgeServer(state) as server:
        outcome = judge_run(run_dir, parse_judge("openai", _args(server)), cache_dir=tmp_path / "c")
    lines = _lines(run_dir / "judge.jsonl")
    failed = [line for line in lines if line["status"] == "judge_failure"]
    assert failed and all(line["judge"] is None and line["score"] is None for line in failed)
    assert outcome.metrics["n_judge_failures"] == len(failed)
    assert outcome.metrics["n_judged"] == 480 - len(failed)
    # each failure was asked twice (one retry), each success once
    assert state.requests == (480 - len(failed)) + 2 * len(failed)


def test_an_unreachable_judge_stops_with_a_clear_line(run_dir: Path, tmp_path: Path) -> None:
    with JudgeServer() as server:
        url = server.base_url  # stopped on exit: the port is closed now
    settings = parse_judge("openai", f"base_url={url},model=m,max_retries=2,backoff=0.01")
    before = (run_dir / "results.json").read_bytes()
    with pytest.raises(SpotfakeError, match="unreachable after 3 attempts.*rerun to resume"):
        judge_run(run_dir, settings, cache_dir=tmp_path / "c")
    assert (run_dir / "results.json").read_bytes() == before


def test_a_killed_judge_resumes_and_judges_every_sample_once(run_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    state = JudgeServerState(delay_s=0.01)
    with JudgeServer(state) as server:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        argv = [sys.executable, "-m", "spotfake.harness.cli", "judge", str(run_dir), "--judge-model", "openai",
                "--judge-args", _args(server, ",concurrency=2"), "--judge-cache", str(cache)]  # fmt: skip
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cache_file = cache / "judge-cache.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not cache_file.exists() or len(cache_file.read_bytes().splitlines()) < 60
        ):
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert not (run_dir / "judge.jsonl").exists()
        done_before = len(cache_file.read_bytes().splitlines())
        assert 60 <= done_before < 480
        answered_before = state.requests
        outcome = judge_run(run_dir, parse_judge("openai", _args(server)), cache_dir=cache)
    assert outcome.cache_hits >= done_before
    assert outcome.requests == state.requests - answered_before == 480 - outcome.cache_hits
    lines = _lines(run_dir / "judge.jsonl")
    assert sorted(line["id"] for line in lines) == sorted({line["id"] for line in lines})
    assert len(lines) == 480 and all(line["status"] == "ok" for line in lines)
    assert len(cache_file.read_bytes().splitlines()) == 480  # one grade per sample, none twice


def test_judge_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["judge", str(tmp_path), "--judge-model", "openai", "--judge-args", "model=m"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a run folder" in err[0]


def test_run_with_a_judge_judges_the_new_run(tmp_path: Path) -> None:
    with JudgeServer() as server:
        # a task YAML file (no images, references on every sample, no CSS): judged as part of the run
        code = main(["run", "--model", "always-fake", "--task", str(TOY_TASK), "--quiet",
                     "--output-dir", str(tmp_path / "runs"), "--bootstrap", "100", "--judge-model", "openai",
                     "--judge-args", _args(server), "--judge-cache", str(tmp_path / "c")])  # fmt: skip
        assert code == 0 and server.state.requests == 20
        assert "image_url" not in json.dumps(server.state.bodies[0])  # the toy task has no images
        (folder,) = [p.parent for p in (tmp_path / "runs").rglob("results.json")]
        results = json.loads((folder / "results.json").read_text())
        assert results["metrics"]["judge"] is not None and results["metrics"]["judge_gated"] is not None
        assert len(_lines(folder / "judge.jsonl")) == results["metrics"]["n_judged"] == 20
        args = ["judge", str(folder), "--judge-model", "openai", "--judge-args", _args(server),
                "--judge-cache", str(tmp_path / "c")]  # fmt: skip
        assert main(args) == 2  # the task "toy" is a file, not a registered name
        assert main([*args, "--task", str(TOY_TASK)]) == 0 and server.state.requests == 20


def test_judge_args_without_a_judge_model_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "always-fake", "--judge-args", "model=m"]) == 2
    assert "--judge-args needs --judge-model" in capsys.readouterr().err


def test_a_judge_that_keeps_failing_gives_counted_errors_not_grades(run_dir: Path, tmp_path: Path) -> None:
    state = JudgeServerState(fail_every=1)  # every request: 429 (with Retry-After) or 500
    with JudgeServer(state) as server:
        settings = parse_judge("openai", _args(server, ",max_retries=2"))
        outcome = judge_run(run_dir, settings, cache_dir=tmp_path / "c")
    assert state.requests == 480 * 3  # one try and two retries each
    assert outcome.metrics["judge"] is None and outcome.metrics["n_judge_failures"] == 480
    lines = _lines(run_dir / "judge.jsonl")
    assert all(
        line["status"] == "error" and "gave up after 3 attempts" in str(line["error"]) for line in lines
    )
    assert not (tmp_path / "c" / "judge-cache.jsonl").exists()  # transport failures are not cached


def test_without_judge_gives_back_the_results_before_judging(run_dir: Path, tmp_path: Path) -> None:
    from spotfake.harness.judge.metrics import without_judge

    before = json.loads((run_dir / "results.json").read_text())
    with JudgeServer() as server:
        judge_run(run_dir, parse_judge("openai", _args(server)), cache_dir=tmp_path / "c")
    after = json.loads((run_dir / "results.json").read_text())
    assert after != before and "judge" in after["scoring"]
    assert without_judge(after) == before  # what a submission check compares and stores
