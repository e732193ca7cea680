"""A real OpenAI-compatible judge on 127.0.0.1 for tests and benchmarks: deterministic grades, and 429 /
500 answers on a fixed schedule.

Grading rule (deterministic, from the request text alone): the explanation's word set is compared with
the reference explanations' (Jaccard); the grade is ``1 + round(4 * min(1, 2 * jaccard))``, and 1 when
the stated verdict contradicts the verdict the reference opens with ("This is a fake image ...").
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORD = re.compile(r"[a-z]+")


def grade_text(prompt: str) -> tuple[int, str]:
    """The deterministic grade of a rendered judge prompt, and the explanation it graded."""
    refs_part = prompt.split("Reference explanation(s) of this image:\n", 1)[1].split(
        "\n\nDetector verdict:", 1
    )[0]
    verdict = prompt.split("Detector verdict: ", 1)[1].split("\n", 1)[0].strip()
    explanation = prompt.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
    words = set(WORD.findall(explanation.lower()))
    best, truth = 0.0, None
    for line in refs_part.splitlines():
        ref = line.removeprefix("- ").lower()
        ref_words = set(WORD.findall(ref))
        if ref_words:
            best = max(best, len(words & ref_words) / len(words | ref_words))
        truth = truth or ("fake" if "fake image" in ref else "real" if "real image" in ref else None)
    if truth is not None and verdict != truth:
        return 1, explanation
    return 1 + round(4 * min(1.0, 2 * best)), explanation


@dataclass
class JudgeServerState:
    """What the server does and saw. ``fail_every``: every k-th request gets 429 (Retry-After) or 500,
    alternating; ``invalid``: explanations containing one of these words get a reply that is no grade;
    ``out_of_range``: those get score 7; ``delay_s``: time per answer."""

    fail_every: int = 0
    invalid: tuple[str, ...] = ()
    out_of_range: tuple[str, ...] = ()
    delay_s: float = 0.0
    requests: int = 0
    graded: Counter[str] = field(default_factory=Counter)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorization: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with state.lock:
            state.requests += 1
            number = state.requests
            state.bodies.append(body)
            state.authorization.add(self.headers.get("Authorization", ""))
        if state.delay_s:
            time.sleep(state.delay_s)
        if not self.path.endswith("/chat/completions"):
            self._send(404, {"error": {"message": "no such route"}})
            return
        if state.fail_every and number % state.fail_every == 0:
            if (number // state.fail_every) % 2:
                self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.01"})
            else:
                self._send(500, {"error": {"message": "internal error"}})
            return
        prompt = next(p["text"] for p in body["messages"][-1]["content"] if p.get("type") == "text")
        score, explanation = grade_text(prompt)
        lowered = explanation.lower()
        if any(w in lowered for w in state.invalid):
            content = "I think it is quite good."
        elif any(w in lowered for w in state.out_of_range):
            content = json.dumps({"score": 7, "rationale": "off the scale"})
        else:
            content = json.dumps({"score": score, "rationale": f"overlap grade {score}"})
            with state.lock:
                state.graded[explanation] += 1
        self._send(
            200,
            {
                "id": f"judge-{number}",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 12, "total_tokens": len(prompt) // 4 + 12},
            },
        )  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: JudgeServerState


class JudgeServer:
    """``with JudgeServer() as server: server.base_url`` -- a judge on a free port, stopped on exit."""

    def __init__(self, state: JudgeServerState | None = None) -> None:
        self.state = state or JudgeServerState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> JudgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Serve until killed: ``python tests/judge_server.py [fail_every] [delay_s]``; prints the base URL."""
    import sys

    state = JudgeServerState(
        fail_every=int(sys.argv[1]) if len(sys.argv) > 1 else 0,
        delay_s=float(sys.argv[2]) if len(sys.argv) > 2 else 0.0,
    )
    server = JudgeServer(state)
    print(server.base_url, flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
