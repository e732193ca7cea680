"""openai adapter against a real OpenAI-compatible HTTP server on 127.0.0.1 (no client mocks).

The server checks the shape of each request (model name, bearer key, image data URL, temperature 0) and
misbehaves on cue: the sample's question says which failures to serve before answering.
"""

from __future__ import annotations

import base64
import io
import json
import re
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
from spotfake.harness.chat_client.backoff import retry_after_seconds
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, build_model
from spotfake.harness.redaction import public_args, public_url, redact, stored_text, url_secrets
from spotfake.harness.types import Sample

SECRET = "sk-test-9Zq4SECRETkeyDoNotLeak0042"
MODEL = "tiny-vision-1"


class FakeOpenAI(LoopbackServer):
    """``/v1/chat/completions``; a question containing ``[429]``, ``[500x2]``, ``[400]``, ``[401]`` or
    ``[leak]`` gets those replies first (per question), then an answer naming the image count. Past
    ``revoke_after`` requests every request gets a 401 (the key was revoked)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}
        self.inflight = 0
        self.max_inflight = 0
        self.delay = 0.0
        self.broken = False
        self.revoke_after: int | None = None
        self.clients: list[OpenAIChatModel] = []

    def respond(self, call: Call) -> None:
        with self.lock:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            self.chat(call, call.json())
        finally:
            with self.lock:
                self.inflight -= 1

    def chat(self, call: Call, body: dict[str, Any]) -> None:
        if self.revoke_after is not None and call.number > self.revoke_after:
            return call.fail(401, "key revoked")
        if call.path != "/v1/chat/completions":
            return call.fail(404, f"no route {call.path}")
        if self.broken:
            return call.fail(401, f"Incorrect API key provided: {SECRET}")
        if call.headers.get("Authorization") != f"Bearer {SECRET}":
            return call.fail(401, "missing or wrong key")
        if body.get("model") != MODEL:
            return call.fail(404, f"model {body.get('model')!r} does not exist")
        if body.get("temperature") != 0 or not isinstance(body.get("max_tokens"), int):
            return call.fail(400, "expected temperature 0 and max_tokens")
        (message,) = body["messages"]
        parts = message["content"]
        images = [p for p in parts if p["type"] == "image_url"]
        text = [p["text"] for p in parts if p["type"] == "text"][-1]
        sizes = []
        for part in images:
            match = re.fullmatch(r"data:image/(png|jpeg);base64,(.+)", part["image_url"]["url"], re.S)
            if not match:
                return call.fail(400, "image is not a base64 data URL")
            sizes.append(Image.open(io.BytesIO(base64.b64decode(match.group(2)))).size)
        with self.lock:
            attempt = self.attempts.get(text, 0) + 1
            self.attempts[text] = attempt
            self.log.append({"text": text, "time": time.monotonic(), "body": body, "attempt": attempt})
        time.sleep(self.delay)
        if "[429]" in text and attempt == 1:
            return call.fail(429, "rate limited", {"Retry-After": "1"})
        if "[500x2]" in text and attempt <= 2:
            return call.fail(500, "upstream hiccup")
        if "[500always]" in text:
            return call.fail(503, "overloaded")
        if "[400]" in text:
            return call.fail(400, "image too large")
        if "[leak]" in text:
            return call.fail(400, f"bad request from key {SECRET}")
        if not images:
            return call.fail(400, "no image")
        answer = f"This is a fake image. I saw {len(images)} image(s) of size {sizes[0][0]}x{sizes[0][1]}."
        usage = {"prompt_tokens": 100 + len(text), "completion_tokens": 12, "total_tokens": 112 + len(text)}
        return call.answer(answer, usage, MODEL)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAI() as srv:
        yield srv
        for model in srv.clients:
            model.close()


def image(seed: int, size: tuple[int, int] = (24, 32)) -> Image.Image:
    return Image.fromarray(np.random.RandomState(seed).randint(0, 256, (*size, 3), dtype=np.uint8))


def item(question: str, n_images: int = 1, seed: int = 0) -> Item:
    return Item(
        Sample(id=question, label="fake", prompt=question), [image(seed + k) for k in range(n_images)]
    )


def client(server: FakeOpenAI, **args: str) -> OpenAIChatModel:
    base = {
        "model": MODEL,
        "base_url": server.base_url,
        "backoff": "0.01",
        "backoff_max": "0.05",
        "max_retries": "3",
    }
    model = OpenAIChatModel(**{**base, **args})
    server.clients.append(model)  # closed when the server stops
    return model


def test_request_shape_answers_and_usage(server: FakeOpenAI) -> None:
    model = client(server, concurrency="2")
    batch = [item("<image>\nIs this real or fake? (a)"), item("Which one is fake? (b)", n_images=2, seed=5)]
    responses = model.predict(batch)
    assert [r.error for r in responses] == [None, None]
    assert responses[0].text == "This is a fake image. I saw 1 image(s) of size 32x24."
    assert responses[1].text == "This is a fake image. I saw 2 image(s) of size 32x24."
    assert responses[0].usage == {"prompt_tokens": 125, "completion_tokens": 12, "total_tokens": 137}
    first = next(entry["body"] for entry in server.log if entry["text"] == "Is this real or fake? (a)")
    content = first["messages"][0]["content"]
    assert content[0]["image_url"]["detail"] == "auto"
    sent = Image.open(io.BytesIO(base64.b64decode(content[0]["image_url"]["url"].split(",", 1)[1])))
    assert np.array_equal(np.asarray(sent), np.asarray(image(0)))  # PNG: the exact pixels
    assert content[-1] == {"type": "text", "text": "Is this real or fake? (a)"}  # <image> tag removed


def test_the_same_sample_sends_the_same_bytes(server: FakeOpenAI) -> None:
    model = client(server, image_format="jpeg", jpeg_quality="80", detail="low", seed="7")
    body_a = model.request_body(item("q", seed=3))
    body_b = model.request_body(item("q", seed=3))
    assert json.dumps(body_a) == json.dumps(body_b)
    assert body_a["seed"] == 7 and body_a["messages"][0]["content"][0]["image_url"]["detail"] == "low"
    assert body_a["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert model.predict([item("q", seed=3)])[0].error is None


def test_429_waits_for_retry_after_and_5xx_backs_off(server: FakeOpenAI) -> None:
    model = client(server, concurrency="3")
    responses = model.predict([item("limited [429]"), item("flaky [500x2]"), item("fine")])
    assert [r.error for r in responses] == [None, None, None]
    assert server.attempts == {"limited [429]": 2, "flaky [500x2]": 3, "fine": 1}
    times = [entry["time"] for entry in server.log if entry["text"] == "limited [429]"]
    assert times[1] - times[0] >= 1.0  # Retry-After: 1 was honoured


def test_a_sample_that_keeps_failing_becomes_an_error_not_a_crash(server: FakeOpenAI) -> None:
    model = client(server, max_retries="2")
    responses = model.predict([item("down [500always]"), item("bad [400]"), item("fine")])
    assert responses[0].error is not None and "gave up after 3 attempts" in responses[0].error
    assert "HTTP 503" in responses[0].error and responses[0].text is None
    assert responses[1].error == "HTTP 400: image too large"
    assert server.attempts["bad [400]"] == 1  # a client error is not retried
    assert responses[2].error is None


def test_connection_errors_are_retried_then_reported(server: FakeOpenAI) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = client(server, base_url=f"http://127.0.0.1:{port}/v1", max_retries="1", max_failures="0")
    (response,) = model.predict([item("anyone?")])
    assert response.error is not None and response.error.startswith("gave up after 2 attempts: ConnectError")
    # by default a server that never answered stops the run instead of recording errors
    model = client(server, base_url=f"http://127.0.0.1:{port}/v1", max_retries="1")
    with pytest.raises(ApiUnavailableError, match=r"no answer from http://127\.0\.0\.1:\d+/v1"):
        model.predict([item("anyone?"), item("hello?")])


def test_batches_share_one_loop_and_python_3_10_gets_a_fresh_one_each(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    kept = client(server)
    assert [r.error for r in kept.predict([item("a")]) + kept.predict([item("b")])] == [None, None]
    assert kept._session is not None and kept._session._client is not None  # still open for the next batch
    monkeypatch.delattr(asyncio, "Runner")  # as on Python 3.10
    fresh = client(server)
    assert [r.error for r in fresh.predict([item("c")]) + fresh.predict([item("d")])] == [None, None]
    assert fresh._session is not None and fresh._session._client is None  # closed with its loop


def test_concurrency_is_bounded(server: FakeOpenAI) -> None:
    server.delay = 0.1
    model = client(server, concurrency="2")
    responses = model.predict([item(f"q{i}") for i in range(6)])
    assert all(r.error is None for r in responses)
    assert server.max_inflight <= 2


def test_a_rejected_key_stops_the_run_without_showing_the_key(server: FakeOpenAI) -> None:
    server.broken = True
    model = client(server)
    with pytest.raises(SpotfakeError) as info:
        model.predict([item("q1"), item("q2")])
    assert "HTTP 401" in str(info.value) and "OPENAI_API_KEY" in str(info.value)
    assert SECRET not in str(info.value)


def test_the_key_never_appears_in_settings_fingerprint_or_responses(server: FakeOpenAI) -> None:
    model = client(server)
    responses = model.predict([item("echo [leak]"), item("fine")])
    assert responses[0].error is not None and "[redacted]" in responses[0].error
    dumped = json.dumps([model.settings(), model.fingerprint(), [asdict(r) for r in responses]])
    assert SECRET not in dumped and SECRET[:12] not in dumped
    with pytest.raises(SpotfakeError, match="do not pass the key"):
        OpenAIChatModel(model=MODEL, api_key=SECRET)


def test_a_key_no_header_can_carry_stops_the_run_without_showing_it(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"{SECRET}\n")  # pasted with its line break
    with pytest.raises(SpotfakeError, match="OPENAI_API_KEY holds characters") as info:
        client(server).predict([item("q")])
    assert SECRET not in str(info.value)


def test_settings_drop_credentials_from_the_url() -> None:
    assert public_url("https://user:pw@example.com:8443/v1/?token=abc") == "https://example.com:8443/v1"
    model = OpenAIChatModel(model=MODEL, base_url="https://user:pw@example.com/v1?token=abc")
    assert model.settings()["base_url"] == "https://example.com/v1"
    assert redact(f"Authorization: Bearer {SECRET}x") == "Authorization: Bearer [redacted]"


def test_url_credentials_are_found_and_stripped() -> None:
    url = "http://someone1:pa%40ss-9876@h.example:8000/v1/?api-key=k-123456789&api-version=2024-06&token=t0k3n-abcdef"
    assert public_url(url) == "http://h.example:8000/v1?api-version=2024-06"
    assert set(url_secrets(url)) == {"someone1", "pa%40ss-9876", "pa@ss-9876", "k-123456789", "t0k3n-abcdef"}
    assert url_secrets("http://u:pw@h/v1") == []  # too short to mask in free text; never in a stored URL
    args = public_args({"base_url": url, "model": "gpt-4o", "path": "/models/x"})
    assert args == {
        "base_url": "http://h.example:8000/v1?api-version=2024-06",
        "model": "gpt-4o",
        "path": "/models/x",
    }


def test_stored_text_is_cleaned_and_redacted_before_it_is_cut() -> None:
    secret = "plain-secret-value-42"
    text = "y" * 20 + secret
    assert stored_text(text, [secret], limit=24) == "y" * 20 + "[red..."
    assert stored_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert (
        redact("GET /v1?key=abc123&x=1 from http://me:pw@h/")
        == "GET /v1?key=[redacted]&x=1 from http://[redacted]@h/"
    )


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "model=<name> is required"),
        ({"model": MODEL, "concurrency": "many"}, "concurrency='many'"),
        ({"model": MODEL, "detail": "ultra"}, "detail='ultra'"),
        ({"model": MODEL, "timeout": "0"}, "timeout='0'"),
        ({"model": MODEL, "base_url": "localhost:8000"}, "expected http"),
    ],
)
def test_bad_model_args(args: dict[str, str], message: str) -> None:
    with pytest.raises(SpotfakeError, match=re.escape(message)):
        build_model("openai", args)


def test_a_killed_run_resumes_without_asking_again(server: FakeOpenAI, tmp_path: Path) -> None:
    from spotfake.harness.cli import main

    for label in ("real", "fake"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(3):
            image(i + (10 if label == "fake" else 0)).save(tmp_path / "data" / label / f"{i}.png")
    argv = [
        "run",
        "--model",
        "openai",
        "--model-args",
        f"model={MODEL},base_url={server.base_url},concurrency=2,backoff=0.01",
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
    server.revoke_after = 3  # the key is revoked mid-run: the run stops with what it has recorded
    assert main(argv) == 2
    server.revoke_after = None
    (folder,) = (tmp_path / "runs").glob("openai@*/imagefolder")  # one folder per --model-args
    first = [json.loads(x) for f in folder.glob("*.jsonl") for x in f.read_text().splitlines() if x.strip()]
    answered = {r["id"] for r in first if r.get("response")}
    assert len(answered) >= 2
    asked_before = len(server.log)
    assert main(argv) == 0
    asked_again = [entry for entry in server.log[asked_before:]]
    assert len(asked_again) == 6 - len(answered)
    records = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["error"] is None for r in records)
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace")
