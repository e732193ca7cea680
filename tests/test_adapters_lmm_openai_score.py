"""openai adapter: p(fake) from logprobs (mode=score / both) and finish reasons, against a loopback server.

The server knows each image's intended p(fake) (from its pixels) and answers with top_logprobs whose
verdict tokens carry exactly that split of probability mass, plus tokens that must not count ("rea",
"The", "realistic"); the expected scores are computed here from hand-labelled token lists.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures.openai_server import Call, LoopbackServer, token_logprobs
from PIL import Image

from spotfake.adapters.openai_api import LogprobsUnavailableError, OpenAIChatModel
from spotfake.adapters.openai_logprobs import TokenLogprobs, p_fake_at, token_set, verdict_position
from spotfake.harness.model import Item
from spotfake.harness.types import Sample

MODEL = "tiny-scorer"
FAKE_TOKENS = {" fake": 0.5, "Fake": 0.3, "Ġsynthetic": 0.2}  # shares of the fake mass
REAL_TOKENS = {" real": 0.7, "Real": 0.2, "▁genuine": 0.1}  # shares of the real mass
OTHER_TOKENS = {"The": 0.2, "rea": 0.05, " realistic": 0.03, "This": 0.02}  # in neither set
VERDICT_MASS = 1.0 - sum(OTHER_TOKENS.values())


def intended_p_fake(image: Image.Image) -> float:
    """The p(fake) the server builds its logprobs from: the image's mean brightness, kept off 0 and 1."""
    return 0.05 + 0.9 * float(np.asarray(image, dtype=np.float64).mean()) / 255.0


def top_list(p: float) -> list[tuple[str, float]]:
    """Listed tokens (log-probabilities) whose verdict tokens split ``VERDICT_MASS`` as p : 1 - p."""
    out = [(t, math.log(VERDICT_MASS * p * share)) for t, share in FAKE_TOKENS.items()]
    out += [(t, math.log(VERDICT_MASS * (1 - p) * share)) for t, share in REAL_TOKENS.items()]
    out += [(t, math.log(share)) for t, share in OTHER_TOKENS.items()]
    return sorted(out, key=lambda pair: -pair[1])


def expected_p_fake(top: list[tuple[str, float]]) -> float:
    """p(fake) from the hand-labelled token lists above, without the adapter's rules."""
    fake = sum(math.exp(lp) for t, lp in top if t in FAKE_TOKENS)
    real = sum(math.exp(lp) for t, lp in top if t in REAL_TOKENS)
    return fake / (fake + real)


class ScoringServer(LoopbackServer):
    """Answers with logprobs when asked; a question with ``[nologprobs]`` gets none, ``[noverdict]`` gets a
    top list without verdict tokens, ``[malformed]`` a logprob that is not a number, ``[cut]`` (or every
    question when ``cut`` is set) a reasoning answer stopped by the token limit."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []
        self.expected: dict[str, float] = {}
        self.cut = False
        self.no_logprobs = False

    def respond(self, call: Call) -> None:
        body = call.json()
        with self.lock:
            self.bodies.append(body)
        parts = body["messages"][0]["content"]
        text = [p["text"] for p in parts if p["type"] == "text"][-1]
        url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
        p = intended_p_fake(image)
        if "[cut]" in text or self.cut:
            return call.answer("<think>The edges look smooth, but the", finish_reason="length")
        if not body.get("logprobs") or "[nologprobs]" in text or self.no_logprobs:
            return call.answer("This is a fake image.", finish_reason="stop")
        if body.get("max_tokens") == 1:
            top = top_list(p)
            if "[noverdict]" in text:
                top = [(t, lp) for t, lp in top if t in OTHER_TOKENS]
            entry = token_logprobs(top[0][0], top[0][1], top)
            if "[malformed]" in text:
                entry["top_logprobs"][0]["logprob"] = "high"
            with self.lock:
                self.expected[text] = expected_p_fake(top) if "[noverdict]" not in text else math.nan
            return call.answer(top[0][0], finish_reason="length", logprobs=[entry])
        # a whole answer: the verdict word comes fourth
        words = ["This", " is", " a", " fake" if p >= 0.5 else " real", " image", "."]
        entries = [token_logprobs(w, -0.01, [(w, -0.01), (" the", -5.0)]) for w in words]
        verdict_top = top_list(p)
        entries[3] = token_logprobs(words[3], -0.1, verdict_top)
        with self.lock:
            self.expected[text] = expected_p_fake(verdict_top)
        return call.answer("".join(words), finish_reason="stop", logprobs=entries)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScoringServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with ScoringServer() as srv:
        yield srv


def image(seed: int) -> Image.Image:
    return Image.fromarray(np.random.RandomState(seed).randint(0, 256, (16, 16, 3), dtype=np.uint8))


def item(question: str, seed: int = 0) -> Item:
    return Item(Sample(id=question, label="fake", prompt=question), [image(seed)])


def client(server: ScoringServer, **args: str) -> OpenAIChatModel:
    return OpenAIChatModel(model=MODEL, base_url=server.base_url, backoff="0.01", max_retries="1", **args)


def test_score_mode_asks_for_one_token_with_top_logprobs_and_sums_the_token_sets(
    server: ScoringServer,
) -> None:
    model = client(server, mode="score")
    try:
        responses = model.predict([item(f"q{k}", seed=k) for k in range(4)])
    finally:
        model.close()
    for k, response in enumerate(responses):
        assert response.error is None
        assert response.score == pytest.approx(server.expected[f"q{k}"], abs=1e-12)
        assert response.score is not None and response.text == ("fake" if response.score >= 0.5 else "real")
        assert response.finish_reason is None  # the text is the verdict word, not the model's answer
    assert {(b["logprobs"], b["top_logprobs"], b["max_tokens"]) for b in server.bodies} == {(True, 20, 1)}
    settings = model.settings()
    assert settings["mode"] == "score" and settings["max_tokens"] == 1
    assert settings["score"]["top_logprobs"] == 20


def test_both_mode_keeps_the_answer_and_scores_the_verdict_position(server: ScoringServer) -> None:
    model = client(server, mode="both", top_logprobs="12", max_tokens="64")
    try:
        responses = model.predict([item("a", seed=1), item("b", seed=2)])
    finally:
        model.close()
    for question, response in zip("ab", responses, strict=True):
        assert response.error is None and response.text is not None
        assert response.text.startswith("This is a ") and response.finish_reason == "stop"
        assert response.score == pytest.approx(server.expected[question], abs=1e-12)
    assert {(b["top_logprobs"], b["max_tokens"]) for b in server.bodies} == {(12, 64)}


def test_generate_mode_sends_no_logprobs_and_records_the_finish_reason(server: ScoringServer) -> None:
    model = client(server)
    try:
        plain, cut = model.predict([item("plain"), item("long one [cut]")])
    finally:
        model.close()
    assert (plain.text, plain.finish_reason, plain.score) == ("This is a fake image.", "stop", None)
    assert cut.finish_reason == "length"
    assert all("logprobs" not in b and "top_logprobs" not in b for b in server.bodies)
    assert "mode" not in model.settings() and "score" not in model.settings()  # generate runs keep their key


def test_an_endpoint_without_logprobs_stops_at_its_first_reply(server: ScoringServer) -> None:
    model = client(server, mode="score", concurrency="1")
    try:
        with pytest.raises(LogprobsUnavailableError) as caught:
            model.predict([item("q [nologprobs]"), item("other")])
    finally:
        model.close()
    message = str(caught.value)
    assert "\n" not in message and "returned no logprobs for model 'tiny-scorer'" in message
    assert "use mode=generate" in message


def test_after_a_scored_sample_each_reply_without_a_score_is_that_samples_error(
    server: ScoringServer,
) -> None:
    model = client(server, mode="score", concurrency="1", max_failures="0")
    try:
        ok, missing, none, broken = model.predict(
            [item("first"), item("q [nologprobs]"), item("q [noverdict]"), item("q [malformed]")]
        )
    finally:
        model.close()
    assert ok.error is None and ok.score is not None
    assert missing.error == "the reply for sample q [nologprobs] carries no logprobs"
    assert none.error is not None and none.text is None
    assert none.error.startswith("sample q [noverdict]: no token of the fake or real sets among the top 20")
    assert broken.error is not None and "malformed logprobs" in broken.error


@pytest.mark.parametrize(
    ("token", "label"),
    [
        (" fake", "fake"),
        ("Fake", "fake"),
        ("▁FAKE", "fake"),
        ("Ġsynthetic", "fake"),
        ("Synth", "fake"),
        (" AI", "fake"),
        (" real", "real"),
        ("Ġreal", "real"),
        ("authent", "real"),
        ("rea", None),
        (" realistic", None),
        (" really", None),
        ("gen", None),  # starts genuine and generated: neither
        ("The", None),
        ("", None),
    ],
)
def test_token_strings_are_sorted_by_the_shared_rule(token: str, label: str | None) -> None:
    assert token_set(token) == label


def test_the_verdict_position_is_the_first_chosen_verdict_token_else_the_first_listing_one() -> None:
    def pos(token: str, top: list[tuple[str, float]]) -> TokenLogprobs:
        return TokenLogprobs(token, -0.1, tuple(top))

    said = [pos("The", [("The", -0.1), (" real", -3.0)]), pos(" fake", [(" fake", -0.2), (" real", -1.8)])]
    assert verdict_position(said) == 1
    listed = [pos("The", [("The", -0.1)]), pos(" image", [(" image", -0.1), ("Fake", -4.0)])]
    assert verdict_position(listed) == 1
    assert verdict_position([pos("The", [("The", -0.1)])]) is None
    # the chosen token counts once when the list leaves it out
    alone = pos(" fake", [(" real", math.log(0.1))])
    assert p_fake_at(alone) == pytest.approx(math.exp(-0.1) / (math.exp(-0.1) + 0.1))


def run_cli(server: ScoringServer, tmp_path: Path, model_args: str) -> Path:
    from spotfake.harness.cli import main

    for label in ("real", "fake"):
        (tmp_path / "data" / label).mkdir(parents=True, exist_ok=True)
        for i in range(6):
            image(i + (30 if label == "fake" else 0)).save(tmp_path / "data" / label / f"{i}.png")
    argv = [
        *("run", "--model", "openai", "--model-args"),
        f"model={MODEL},base_url={server.base_url},concurrency=3,backoff=0.01,{model_args}",
        *("--task", "imagefolder", "--data-root", str(tmp_path / "data")),
        *("--output-dir", str(tmp_path / "runs"), "--bootstrap", "10", "--quiet"),
    ]
    assert main(argv) == 0
    (folder,) = (tmp_path / "runs").glob("openai@*/imagefolder")
    return folder


def test_spotfake_run_with_score_mode_reports_auc_equal_to_scikit_learns(
    server: ScoringServer, tmp_path: Path
) -> None:
    from sklearn.metrics import roc_auc_score

    folder = run_cli(server, tmp_path, "mode=score")
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 12 and all(r["error"] is None and 0.0 < r["score"] < 1.0 for r in records)
    assert all(r["verdict"] == r["response"] for r in records)
    truth = [1 if r["label"] == "fake" else 0 for r in records]
    scores = [r["score"] for r in records]
    assert 0.0 < roc_auc_score(truth, scores) < 1.0  # the scores rank, imperfectly
    results = json.loads((folder / "results.json").read_text())
    assert results["metrics"]["auc"] == pytest.approx(roc_auc_score(truth, scores), abs=1e-12)
    for metric in ("ap", "eer", "brier", "ece"):
        assert isinstance(results["metrics"][metric], float), metric


def test_an_answer_cut_by_the_token_limit_is_counted_as_truncated(
    server: ScoringServer, tmp_path: Path
) -> None:
    from spotfake.harness.cli import main

    data = tmp_path / "data"
    (data / "fake").mkdir(parents=True)
    (data / "real").mkdir(parents=True)
    image(1).save(data / "fake" / "0.png")
    image(2).save(data / "real" / "0.png")
    server.cut = True
    argv = [
        *("run", "--model", "openai", "--model-args"),
        f"model={MODEL},base_url={server.base_url},backoff=0.01",
        *("--task", "imagefolder", "--data-root", str(data)),
        *("--output-dir", str(tmp_path / "runs"), "--bootstrap", "0", "--quiet"),
    ]
    assert main(argv) == 0
    (folder,) = (tmp_path / "runs").glob("openai@*/imagefolder")
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert [(r["finish_reason"], r["truncated"], r["verdict"]) for r in records] == [
        ("length", True, None)
    ] * 2
    assert json.loads((folder / "results.json").read_text())["scoring"]["n_truncated"] == 2


def test_spotfake_run_against_an_endpoint_without_logprobs_ends_with_one_line(
    server: ScoringServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spotfake.harness.cli import main

    for label in ("real", "fake"):
        (tmp_path / "data" / label).mkdir(parents=True)
        image(3).save(tmp_path / "data" / label / "0.png")
    server.no_logprobs = True
    argv = [
        *("run", "--model", "openai", "--model-args"),
        f"model={MODEL},base_url={server.base_url},backoff=0.01,mode=score",
        *("--task", "imagefolder", "--data-root", str(tmp_path / "data")),
        *("--output-dir", str(tmp_path / "runs"), "--quiet"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith("does not offer logprobs/top_logprobs; use mode=generate")
