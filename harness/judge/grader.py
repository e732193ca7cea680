"""Grading explanations: cache look-up, one request (plus one retry on an invalid reply), cache write.

:class:`Grader` is shared by ``spotfake judge`` (explanations of a run) and ``spotfake judge-check``
(reference, model and mismatched explanations). It knows nothing of run folders. Requests run as
asyncio tasks on one :class:`~spotfake.harness.chat_client.transport.Session` (``concurrency`` at a
time); building a request (reading and encoding images) and writing the cache run on its threads.

Every text of an entry (a rationale, an error) is cleaned and redacted before it is cached, written or
returned (:func:`reply_entry`, :func:`safe_entry`): a judge that echoes the API key, literally or as JSON
escapes that only parsing decodes, or sends a lone surrogate, never reaches a file.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotfake.harness.chat_client.transport import Session
from spotfake.harness.errors import SampleError
from spotfake.harness.judge.cache import JudgeCache, cache_key
from spotfake.harness.judge.client import JudgeClient, chat_body
from spotfake.harness.judge.rubric import Grade, parse_grade
from spotfake.harness.judge.settings import JudgeSettings
from spotfake.harness.redaction import public_url, stored_text

GRADE_ATTEMPTS = 2
"""A reply that is not a valid grade is asked once more, then recorded as a judge failure."""
RATIONALE_LIMIT = 2000
"""Characters of a rationale kept (after redaction)."""
SHOWN_REPLY = 160
"""Characters of a reply that was no grade shown in its error (after redaction)."""
TEXT_FIELDS = ("rationale", "error")


def reply_entry(
    text: str, secrets: Sequence[str], parse: Callable[[str], Grade | None] = parse_grade
) -> dict[str, object]:
    """The entry of one judge reply: ``{"status": "ok", "score", "value", "rationale", "criteria"}`` or
    ``{"status": "judge_failure", "error"}``; ``parse`` reads the reply under the rubric (spotfake's by
    default). The rationale is cleaned and redacted after JSON decoding (an escaped key is masked too),
    then cut; the error shows the reply re-encoded the same way."""
    grade = parse(text)
    if grade is not None:
        return {
            "status": "ok",
            "score": grade.score,
            "value": grade.value,
            "rationale": stored_text(grade.rationale, secrets, RATIONALE_LIMIT),
            "criteria": grade.criteria,
        }
    try:
        shown = json.dumps(
            json.loads(text), ensure_ascii=False
        )  # escapes decoded: a key shows, then is masked
    except (ValueError, RecursionError):
        shown = text
    error = f"not a grade under the rubric: {stored_text(shown, secrets, SHOWN_REPLY)!r}"
    return {"status": "judge_failure", "error": stored_text(error, secrets)}


def safe_entry(entry: dict[str, object], secrets: Sequence[str]) -> dict[str, object]:
    """``entry`` with its texts cleaned and redacted (for entries read back from a cache written by an
    earlier version or by hand)."""
    out = dict(entry)
    for name in TEXT_FIELDS:
        value = out.get(name)
        if isinstance(value, str):
            out[name] = stored_text(value, secrets)
    return out


@dataclass(frozen=True)
class Job:
    """One explanation to grade: the sample, the verdict shown with it, its text, references, images."""

    sample_id: str
    verdict: str | None
    explanation: str
    references: tuple[str, ...]
    images: tuple[Path, ...] = ()
    perturbation: str | None = None
    """The run's image perturbation spec (``jpeg:75``), applied before the judge sees the image."""


@dataclass
class Tally:
    """What one grading pass did: requests sent, cache hits, tokens spent (thread-safe counters)."""

    requests: int = 0
    cache_hits: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, requests: int = 0, hits: int = 0, usage: dict[str, int] | None = None) -> None:
        """Count requests, cache hits and token usage."""
        with self._lock:
            self.requests += requests
            self.cache_hits += hits
            for k, v in (usage or {}).items():
                self.usage[k] = self.usage.get(k, 0) + v


def image_data_urls(job: Job) -> list[str]:
    """The job's images as PNG ``data:`` URLs, perturbed as the model saw them (same input, same bytes)."""
    from spotfake.harness.images import image_data_url, load_images
    from spotfake.harness.perturb import parse_perturbation

    images = load_images(job.images, sample_id=job.sample_id)
    perturbation = parse_perturbation(job.perturbation)
    if perturbation is not None:
        images = perturbation.apply_all(job.sample_id, images)
    return [image_data_url(image) for image in images]


class Grader:
    """Grades jobs through a cache and a :class:`JudgeClient`, ``settings.concurrency`` at a time."""

    def __init__(self, settings: JudgeSettings, cache_dir: Path) -> None:
        self.settings = settings
        self.cache = JudgeCache(cache_dir)
        self.client = JudgeClient(settings.base_url, settings.client)
        self.endpoint = public_url(settings.base_url)
        self.rubric = settings.rubric_def
        self.tally = Tally()

    def key(self, job: Job) -> str:
        """The cache key of ``job`` under this judge (endpoint, model and rubric)."""
        return cache_key(
            endpoint=self.endpoint,
            judge_model=self.settings.model,
            rubric_version=self.rubric.version,
            prompt_sha256=self.rubric.prompt_sha256,
            sample_id=job.sample_id,
            response=f"{job.verdict}\n{job.explanation}",
            references=job.references,
            image=self.settings.image,
            perturbation=job.perturbation,
            rubric=self.rubric.name,
        )

    def body(self, job: Job) -> dict[str, Any]:
        """The chat-completions request for ``job`` (its explanation block has a fresh random tag)."""
        prompt = self.rubric.render(
            job.verdict, job.explanation, job.references, with_image=self.settings.image and bool(job.images)
        )
        urls = image_data_urls(job) if self.settings.image else []
        return chat_body(self.settings.model, prompt, urls, self.rubric.schema, self.settings.token_limit)

    async def grade(self, session: Session, job: Job) -> dict[str, Any]:
        """The entry for one job: from the cache, or from the judge (then cached unless it was a transport
        failure). Keys: ``status`` (ok | judge_failure | error), ``score``, ``value``, ``rationale``,
        ``criteria``, ``error``, ``usage``, ``cached``."""
        secrets = self.client.secrets
        key = self.key(job)
        hit = self.cache.get(key)
        if hit is not None:
            self.tally.add(hits=1)
            return {**safe_entry(hit, secrets), "cached": True}
        try:
            body = await session.in_thread(self.body, job)
        except SampleError as exc:
            return {"status": "error", "error": stored_text(str(exc), secrets), "cached": False}
        usage: dict[str, int] = {}
        entry: dict[str, Any] = {}
        for _ in range(GRADE_ATTEMPTS):
            done = await self.client.complete(session.client(), body)
            self.tally.add(requests=done.attempts, usage=done.usage)
            for k, v in done.usage.items():
                usage[k] = usage.get(k, 0) + v
            if done.text is None:
                error = stored_text(done.error or "no reply", secrets)
                return {"status": "error", "error": error, "usage": usage, "cached": False}
            entry = {**reply_entry(done.text, secrets, self.rubric.parse), "usage": usage}
            if entry["status"] == "ok":
                break
        await session.in_thread(self.cache.put, key, entry)
        return {**entry, "cached": False}

    def grade_all(self, jobs: Sequence[Job]) -> list[dict[str, Any]]:
        """Grade every job (``concurrency`` at a time), results in the order of ``jobs``. A
        :class:`JudgeStop` from any request, or Ctrl-C, cancels every request in flight and propagates;
        finished grades stay in the cache."""
        results: list[dict[str, Any]] = [{} for _ in jobs]
        pending = []
        for i, job in enumerate(jobs):
            hit = self.cache.get(self.key(job))
            if hit is None:
                pending.append(i)
            else:
                self.tally.add(hits=1)
                results[i] = {**safe_entry(hit, self.client.secrets), "cached": True}
        if not pending:
            return results
        concurrency = self.settings.concurrency
        session = Session(self.client.limits, connections=concurrency, workers=concurrency)
        try:
            graded = session.run(self._grade_each(session, [jobs[i] for i in pending]))
        finally:
            session.close()
        for i, entry in zip(pending, graded, strict=True):
            results[i] = entry
        return results

    async def _grade_each(self, session: Session, jobs: list[Job]) -> list[dict[str, Any]]:
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def one(job: Job) -> dict[str, Any]:
            async with gate:
                return await self.grade(session, job)

        tasks = [asyncio.ensure_future(one(job)) for job in jobs]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
