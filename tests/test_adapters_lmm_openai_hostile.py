"""The openai adapter against a misbehaving server on 127.0.0.1: slow drips, huge replies, broken text,
echoed secrets, outages and Ctrl-C. Each case ends in bounded time with one clear outcome."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures.openai_server import Call, LoopbackServer
from PIL import Image

from spotfake.adapters.openai_api import ApiUnavailableError, OpenAIChatModel
from spotfake.harness.cli import main
from spotfake.harness.model import Item
from spotfake.harness.types import Sample

KEY = "k3y-echoed-7f6e5d4c3b2a"  # not shaped like an OpenAI key: only knowing it can mask it
MODEL = "tiny-vision-1"
ROOT = Path(__file__).resolve().parent.parent


class Hostile(LoopbackServer):
    """Misbehaves as ``mode`` says: drip, big, big-declared, surrogate, echo, hang-after (answers
    ``answer_first`` requests, then hangs), fail-after (then 503s), fail-first (503 once), down (503 always)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.answer_first = 0
        self.sent_bytes = 0
        self.seen: list[dict[str, Any]] = []
        self.clients: list[OpenAIChatModel] = []

    def respond(self, call: Call) -> None:
        number, mode = call.number, self.mode
        with self.lock:
            self.seen.append({"path": call.path, "auth": call.headers.get("Authorization")})
        if mode == "drip":  # a byte every 0.25 s: no single read ever waits long
            call.start(200, 1000)
            for _ in range(1000):
                call.wfile.write(b" ")
                call.wfile.flush()
                time.sleep(0.25)
        elif mode in ("big", "big-declared"):  # 100 MB of answer
            chunk = b"x" * 2**20
            call.start(200, 100 * 2**20 if mode == "big-declared" else None)
            for _ in range(100):
                call.wfile.write(chunk)
                with self.lock:
                    self.sent_bytes += len(chunk)
        elif mode == "surrogate":  # valid JSON whose text holds a lone surrogate
            call.send(200, b'{"choices": [{"message": {"content": "fake \\ud800 image"}}]}')
        elif mode == "echo":  # answers repeat the Authorization header and the query string
            echo = f"{call.headers.get('Authorization')} via {call.path}"
            if number % 2:
                call.answer(f"This is a fake image. You sent {echo}. Key: {KEY}")
            else:  # the key straddles the 300-character cut of an error text
                call.reply(400, {"error": {"message": "x" * 285 + f" {KEY} {echo}"}})
        elif mode == "hang-after":
            if number > self.answer_first:
                time.sleep(60)
            call.answer("This is a fake image.")
        elif (
            mode == "down"
            or (mode == "fail-after" and number > self.answer_first)
            or (mode == "fail-first" and number == 1)
        ):
            call.send(503, b'{"error": {"message": "overloaded"}}')
        elif mode in ("fail-after", "fail-first"):
            call.answer("This is a real image.")


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[Hostile]:
    with Hostile(request.param) as server:
        yield server
        for model in server.clients:
            model.close()


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def item(question: str = "Is this image real or fake?") -> Item:
    pixels = np.random.RandomState(0).randint(0, 256, (16, 16, 3), dtype=np.uint8)
    return Item(Sample(id=question, label="fake", prompt=question), [Image.fromarray(pixels)])


def client(server: Hostile, **args: str) -> OpenAIChatModel:
    base = {"model": MODEL, "base_url": server.base_url, "max_retries": "0", "max_failures": "0"}
    model = OpenAIChatModel(**{**base, **args})
    server.clients.append(model)  # closed when the server stops
    return model


@pytest.mark.parametrize("hostile", ["drip"], indirect=True)
def test_a_dripping_server_hits_the_total_deadline(hostile: Hostile) -> None:
    model = client(hostile, timeout="1.5")
    started = time.monotonic()
    (response,) = model.predict([item()])
    elapsed = time.monotonic() - started
    assert response.error is not None and "no complete reply within 1.5 s" in response.error
    assert response.text is None
    assert elapsed < 3.0  # one deadline, not one per byte


@pytest.mark.parametrize("hostile", ["big", "big-declared"], indirect=True)
def test_a_100_mb_reply_is_capped_and_not_stored(hostile: Hostile) -> None:
    model = client(hostile, max_reply_bytes=str(2**20))
    started = time.monotonic()
    (response,) = model.predict([item()])
    assert response.error is not None and "reply too large" in response.error
    assert "max_reply_bytes=1048576" in response.error and len(response.error) < 200
    assert response.text is None
    assert time.monotonic() - started < 10
    assert hostile.sent_bytes < 100 * 2**20  # the client hung up long before the end


@pytest.mark.parametrize("hostile", ["surrogate"], indirect=True)
def test_a_lone_surrogate_is_replaced_before_anything_is_written(hostile: Hostile, tmp_path: Path) -> None:
    from spotfake.harness.record_store import RecordWriter
    from spotfake.harness.types import Record

    (response,) = client(hostile).predict([item()])
    assert response.error is None and response.text == "fake \ufffd image"
    record = Record(id="a", label="fake", response=response.text)
    with RecordWriter(tmp_path / "samples.jsonl") as writer:
        writer.append([record])
    assert "fake \ufffd image" in (tmp_path / "samples.jsonl").read_text(encoding="utf-8")
    json.dumps(asdict(response), ensure_ascii=False).encode("utf-8")  # storable as UTF-8


@pytest.mark.parametrize("hostile", ["echo"], indirect=True)
def test_an_echoed_key_is_never_stored(hostile: Hostile) -> None:
    responses = client(hostile).predict([item("q1"), item("q2")])
    assert hostile.seen[0]["auth"] == f"Bearer {KEY}"  # the key was sent
    answered, refused = sorted(responses, key=lambda r: r.error is not None)
    assert answered.text is not None and "You sent Bearer [redacted]" in answered.text
    assert answered.text.endswith("Key: [redacted]")
    # redaction before the cut: no head of the key is left where the error text was cut
    assert refused.error is not None and refused.error.startswith("HTTP 400: xxx")
    assert refused.error.endswith("x [red...") and KEY[:4] not in refused.error
    dumped = json.dumps([asdict(r) for r in responses])
    assert KEY not in dumped and KEY[:4] not in dumped


def _image_folder(root: Path, n: int) -> Path:
    for label in ("real", "fake"):
        (root / label).mkdir(parents=True)
        for i in range(n):
            seed = i + (100 if label == "fake" else 0)
            pixels = np.random.RandomState(seed).randint(0, 256, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


def _argv(base_url: str, tmp_path: Path, extra: str = "") -> list[str]:
    args = f"model={MODEL},base_url={base_url},concurrency=2,backoff=0.01,backoff_max=0.02{extra}"
    return [
        "run",
        "--model",
        "openai",
        "--model-args",
        args,
        "--task",
        "imagefolder",
        "--data-root",
        str(tmp_path / "data"),
        "--output-dir",
        str(tmp_path / "runs"),
        "--batch-size",
        "2",
        "--bootstrap",
        "10",
        "--quiet",
    ]


@pytest.mark.parametrize("hostile", ["echo"], indirect=True)
def test_url_credentials_are_used_but_never_stored(hostile: Hostile, tmp_path: Path) -> None:
    _image_folder(tmp_path / "data", 2)
    port = hostile.server_address[1]
    secret_url = f"http://someuser9:p4ssw0rd-xyz-42@127.0.0.1:{port}/v1?api-key=qk-0123456789&api-version=7"
    assert main(_argv(secret_url, tmp_path)) == 0
    assert hostile.seen[0]["path"] == "/v1/chat/completions?api-key=qk-0123456789&api-version=7"
    assert str(hostile.seen[0]["auth"]).startswith("Basic ")  # user:password went to the server
    stored = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "runs").rglob("*") if p.is_file())
    assert "api-key=[redacted]" in stored  # the echoed query string, masked
    for secret in ("p4ssw0rd-xyz-42", "qk-0123456789", "someuser9", KEY):
        assert secret not in stored
    (results,) = (tmp_path / "runs").rglob("results.json")
    recorded = json.loads(results.read_text())["model"]
    assert recorded["settings"]["base_url"] == f"http://127.0.0.1:{port}/v1?api-version=7"
    assert recorded["args"]["base_url"] == f"http://127.0.0.1:{port}/v1?api-version=7"


@pytest.mark.parametrize("hostile", ["down"], indirect=True)
def test_a_run_where_every_request_fails_stops_with_one_line(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _image_folder(tmp_path / "data", 3)
    assert main(_argv(hostile.base_url, tmp_path, ",max_retries=1")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no answer from http://127.0.0.1:" in err[0] and "HTTP 503" in err[0]
    assert not list((tmp_path / "runs").rglob("results.json"))  # no result made of errors
    with socket.socket() as sock:  # connection refused: the same
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    assert main(_argv(dead, tmp_path, ",max_retries=0")) == 2
    assert "ConnectError" in capsys.readouterr().err
    assert not list((tmp_path / "runs").rglob("results.json"))


@pytest.mark.parametrize("hostile", ["fail-after"], indirect=True)
def test_an_outage_mid_run_stops_after_max_failures_in_a_row(hostile: Hostile) -> None:
    hostile.answer_first = 2
    model = client(hostile, max_failures="3")
    assert [r.error for r in model.predict([item("q1"), item("q2")])] == [None, None]
    failed = model.predict([item("q3"), item("q4")])  # it has answered before: two errors are recorded
    assert all(r.error == "gave up after 1 attempt: HTTP 503: overloaded" for r in failed)
    with pytest.raises(
        ApiUnavailableError, match=r"the last 3 requests to http://127\.0\.0\.1:\d+/v1 failed"
    ):
        model.predict([item("q5")])


@pytest.mark.parametrize("hostile", ["fail-first"], indirect=True)
def test_an_error_record_is_asked_again_on_resume(hostile: Hostile, tmp_path: Path) -> None:
    _image_folder(tmp_path / "data", 3)
    argv = _argv(hostile.base_url, tmp_path, ",max_retries=0")
    assert main(argv) == 0  # one 503: an error record, the run goes on
    (folder,) = (tmp_path / "runs").glob("openai@*/imagefolder")
    first = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(first) == 6 and sum(r["error"] is not None for r in first) == 1
    failed = next(r for r in first if r["error"] is not None)
    assert failed["response"] is None and "HTTP 503" in failed["error"]
    assert main(argv) == 0
    assert hostile.requests == 7  # only the failed sample was asked again
    again = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(again) == 6 and all(r["error"] is None for r in again)


@pytest.mark.parametrize("hostile", ["hang-after"], indirect=True)
def test_ctrl_c_stops_within_two_seconds_and_keeps_finished_records(hostile: Hostile, tmp_path: Path) -> None:
    hostile.answer_first = 2  # the first batch is answered, the second hangs
    _image_folder(tmp_path / "data", 3)
    env = {**os.environ, "OPENAI_API_KEY": KEY, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "spotfake.harness.cli", *_argv(hostile.base_url, tmp_path)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    records = tmp_path / "runs"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and hostile.requests < 4:
            time.sleep(0.05)  # two answered, two hanging
        assert hostile.requests >= 4, "the run never reached its second batch"
        time.sleep(0.3)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.communicate()[1].decode()
    assert code == 130, stderr
    assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
    lines = [json.loads(x) for f in records.rglob("samples*.jsonl") for x in f.read_text().splitlines()]
    assert len([r for r in lines if r.get("response")]) == 2  # the finished batch is kept


def test_a_port_out_of_range_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from spotfake.harness.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-0123456789")
    argv = [
        "run",
        "--model",
        "openai",
        "--model-args",
        "base_url=http://u:hunter2@127.0.0.1:99999/v1,model=x",
    ]
    assert main([*argv, "--task", "demo", "--limit", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "port from 1 to 65535" in err and "hunter2" not in err and len(err.splitlines()) == 1


def test_http_log_lines_never_show_the_key_or_url_secrets(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from spotfake.adapters.openai_api import OpenAIChatModel

    monkeypatch.setenv("OPENAI_API_KEY", "sk-logged-key-0123456789")
    model = OpenAIChatModel(model="m", base_url="http://127.0.0.1:9/v1?api-key=QUERYSECRET42")
    model._request_parts()  # what every batch does before its requests
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: POST http://127.0.0.1:9/v1/chat/completions?api-key=QUERYSECRET42 "Bearer sk-logged-key-0123456789"'
        )
    assert "QUERYSECRET42" not in caplog.text and "sk-logged-key-0123456789" not in caplog.text
