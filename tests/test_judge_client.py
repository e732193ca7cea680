"""The judge's HTTP bounds against a real loopback judge (HTTP on 127.0.0.1): the total deadline per
attempt, the reply-size cap, Ctrl-C, a rejected key; the same client as the openai adapter's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from fixtures.judge_server import JudgeServer, JudgeServerState

from spotfake.harness.judge.client import JudgeStop
from spotfake.harness.judge.grader import Grader, Job
from spotfake.harness.judge.settings import parse_judge

DEMO_RUN = REPO_ROOT / "results" / "reproduced" / "fakevlm-demo" / "demo"
SECRET = "sk-test-Judge0123456789secret"
REFERENCE = "This is a fake image. The hands have six fingers and the text is garbled."


def _jobs(n: int) -> list[Job]:
    return [Job(f"s{i}", "fake", f"Six fingers on hand {i}.", (REFERENCE,)) for i in range(n)]


def _grader(server: JudgeServer, tmp_path: Path, extra: str = "") -> Grader:
    args = (
        f"base_url={server.base_url},model=loopback-judge,concurrency=2,backoff=0.01,backoff_max=0.02{extra}"
    )
    return Grader(parse_judge("openai", args), tmp_path / "cache")


def test_a_dripping_judge_hits_the_total_deadline_of_an_attempt(tmp_path: Path) -> None:
    # a byte every 0.05 s: no single read waits long, so only a deadline on the whole reply ends it
    with JudgeServer(JudgeServerState(drip_s=0.05)) as server:
        grader = _grader(server, tmp_path, ",timeout=1,max_retries=0")
        started = time.monotonic()
        with pytest.raises(JudgeStop, match=r"unreachable after 1 attempts: no complete reply within 1 s"):
            grader.grade_all(_jobs(1))
        assert time.monotonic() - started < 3.0


def test_a_huge_judge_reply_is_capped_and_not_cached(tmp_path: Path) -> None:
    with JudgeServer(JudgeServerState(huge_reply=4 * 2**20)) as server:
        grader = _grader(server, tmp_path, ",max_reply_bytes=65536,max_retries=0")
        entries = grader.grade_all(_jobs(2))
    for entry in entries:
        assert entry["status"] == "error" and "reply too large" in entry["error"]
        assert "max_reply_bytes=65536" in entry["error"]
    assert len(grader.cache) == 0  # a transport failure is asked again next time


def test_a_rejected_key_stops_the_judge_with_the_key_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPOTFAKE_JUDGE_API_KEY", SECRET)
    with JudgeServer(JudgeServerState(reject_key=True)) as server:
        grader = _grader(server, tmp_path)
        with pytest.raises(JudgeStop, match="HTTP 401.*the API key was rejected") as stop:
            grader.grade_all(_jobs(4))
    assert SECRET not in str(stop.value) and "[redacted]" in str(stop.value)
    assert server.state.requests <= 2  # one per request in flight, nothing after the stop


def test_a_key_no_header_can_carry_is_refused_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPOTFAKE_JUDGE_API_KEY", "sk-two\nlines")
    with JudgeServer() as server, pytest.raises(JudgeStop, match="SPOTFAKE_JUDGE_API_KEY holds characters"):
        _grader(server, tmp_path)
    assert server.state.requests == 0


def test_ctrl_c_stops_the_judge_within_two_seconds_and_keeps_its_grades(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "fakevlm-demo" / "demo"
    shutil.copytree(DEMO_RUN, folder)
    (folder / "judge.jsonl").unlink(missing_ok=True)
    before = (folder / "results.json").read_bytes()
    cache = tmp_path / "cache"
    state = JudgeServerState(hang_after=20)  # 20 answers, then every request hangs for a minute
    with JudgeServer(state) as server:
        args = f"base_url={server.base_url},model=loopback-judge,concurrency=2"
        command = [sys.executable, "-m", "spotfake.harness.cli", "judge", str(folder), "--judge-model", "openai",
                   "--judge-args", args, "--judge-cache", str(cache)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cache_file = cache / "judge-cache.jsonl"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (
                state.requests < 22
                or not cache_file.exists()
                or len(cache_file.read_bytes().splitlines()) < 20
            ):
                time.sleep(0.05)  # 20 graded and cached, two hanging
            assert state.requests >= 22, "the judge never reached the hanging requests"
            time.sleep(0.3)
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            elapsed = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.communicate()[1].decode()
    assert code == 130, stderr
    assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
    assert len(cache_file.read_bytes().splitlines()) == 20  # every grade received is kept
    assert not (folder / "judge.jsonl").exists()
    assert (folder / "results.json").read_bytes() == before
