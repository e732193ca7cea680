"""The judge grades an answer's explanation without its reasoning markup: a ``<think>R</think><answer>A
</answer>`` answer is graded on R then A (:func:`harness.verdict.reasoning.explanation_text`), by ``spotfake
judge`` and by ``spotfake judge-check``, while each grade stays tied to the whole answer recorded."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TOY_TASK
from fixtures.judge_server import JudgeServer

from spotfake.harness.cli import main
from spotfake.harness.judge.check import check_jobs
from spotfake.harness.judge.grades import answer_sha256, current_grades
from spotfake.harness.task import load_task
from spotfake.harness.types import Record
from spotfake.harness.verdict.reasoning import explanation_text

FORMS = [
    "<think>{r}</think><answer>{v}</answer>",
    "<think>\n{r}\n</think>\n<answer> {v} </answer>",
    "<THINK>{r}</THINK> {v}",
    "{r}</think><answer>{v}</answer>",
    '```json\n{{"reasoning": "{r}", "answer": "{v}"}}\n```',
    "{r} <answer>{v}</answer>",
]


def _answers(n: int) -> dict[str, str]:
    """A reasoning answer per toy sample, cycling through :data:`FORMS`; sample 4 gives markup alone."""
    task = load_task(str(TOY_TASK))
    out = {}
    for i, sample in enumerate(task.samples[:n]):
        reasoning = f"Looking closely, sample {i} shows {'smooth skin' if i % 3 else 'natural grain'}"
        out[sample.id] = FORMS[i % len(FORMS)].format(r=reasoning, v="fake" if i % 3 else "real")
    out[task.samples[4].id] = "<think></think><answer></answer>"
    return out


def _scored(tmp_path: Path, name: str, answers: dict[str, str]) -> Path:
    """The folder ``spotfake score`` writes for ``answers`` (a predictions file named ``name``)."""
    predictions = tmp_path / f"{name}.jsonl"
    predictions.write_text("".join(json.dumps({"id": k, "response": v}) + "\n" for k, v in answers.items()))
    assert main(["score", "--task", str(TOY_TASK), "--predictions", str(predictions), "--model-kind", "lmm",
                 "--output-dir", str(tmp_path / name), "--bootstrap", "50"]) == 0  # fmt: skip
    (folder,) = [p.parent for p in (tmp_path / name).rglob("results.json")]
    return folder


def _judge(server: JudgeServer, folder: Path, cache: Path) -> list[dict[str, object]]:
    args = f"base_url={server.base_url},model=loopback-judge,concurrency=4"
    assert main(["judge", str(folder), "--judge-model", "openai", "--judge-args", args,
                 "--task", str(TOY_TASK), "--judge-cache", str(cache)]) == 0  # fmt: skip
    return [json.loads(line) for line in (folder / "judge.jsonl").read_text().splitlines()]


def test_judge_grades_the_reasoning_text_not_the_tags(tmp_path: Path) -> None:
    answers = _answers(20)
    folder = _scored(tmp_path, "thinker", answers)
    plain = {k: explanation_text(v) for k, v in answers.items() if explanation_text(v).strip()}
    plain_folder = _scored(tmp_path, "plain", plain)
    with JudgeServer() as server:
        lines = _judge(server, folder, tmp_path / "c")
        graded = set(server.state.graded)
        # the same reasoning without tags: the same request, so every grade comes from the cache
        plain_lines = _judge(server, plain_folder, tmp_path / "c")
        assert server.state.requests == 19
    wanted = {text.strip() for text in plain.values()}
    assert graded == wanted and len(graded) == 19  # the markup-only answer has nothing to grade
    assert not any(
        tag in text for text in graded for tag in ("<think", "</think", "<answer", "```", '"answer"')
    )
    assert plain["s00001"] == "Looking closely, sample 1 shows smooth skin\nfake"  # reasoning, then answer
    assert len(lines) == 19 and all(line["status"] == "ok" for line in lines)
    assert all(line["answer_sha256"] == answer_sha256(answers[str(line["id"])]) for line in lines)
    assert set(current_grades(folder, answers)) == {line["id"] for line in lines}
    results = json.loads((folder / "results.json").read_text())
    assert results["metrics"]["n_judged"] == 19 and results["metrics"]["judge"] is not None
    assert {x["id"]: x["judge"] for x in lines} == {x["id"]: x["judge"] for x in plain_lines}


def test_judge_check_grades_a_models_reasoning_text() -> None:
    task = load_task(str(TOY_TASK))
    answers = _answers(20)
    records = {
        s.id: Record(id=s.id, label=s.label, response=answers[s.id], verdict="fake") for s in task.samples
    }
    jobs = check_jobs(task, records, limit=20)
    model = {job.sample_id: job.explanation for kind, job in jobs if kind == "model"}
    assert len(model) == 19 and task.samples[4].id not in model
    assert all(text == explanation_text(answers[sid]) for sid, text in model.items())
    assert model["s00001"] == "Looking closely, sample 1 shows smooth skin\nfake"
