"""The arena tab in a real Chromium: vote, see the names revealed and the ratings change; a reload keeps
the voter (the browser's key), whatever name is typed. And what a voter never sees: a pair of fixed
sentences, two identical texts, a sample id or file name (they carry the label), a rating below the
minimum number of votes.

Runs ``spotfake leaderboard`` over committed demo runs (the baselines turned into explaining runs, and a
language model that only ever says one sentence) with a fresh SQLite arena database; skips only when
Chromium is absent and ``CI`` is not set.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from arena_runs import COMMITTED, explaining_results
from test_leaderboard_browser import CHROMIUM_FLAGS, board_server, chromium_path, playwright_api

from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.voters import voter_key

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("leaderboard_browser")]
FIXED = ("This is a fake image.", "This is a real image.")
"""What the committed baselines (and the parrot below) answer: sentences, not explanations."""


def _results(tmp_path: Path) -> Path:
    """fakevlm-demo, always-fake and random as explaining runs, and "parrot": a language model that
    answers every sample with one fixed sentence per verdict (the arena must leave it out)."""
    results = explaining_results(tmp_path / "results")
    parrot = results / "reproduced" / "parrot" / "demo"
    shutil.copytree(COMMITTED / "random" / "demo", parrot)
    data = json.loads((parrot / "results.json").read_text())
    data["model"].update(name="parrot", kind="lmm")
    (parrot / "results.json").write_text(json.dumps(data))
    return results


@contextlib.contextmanager
def _server(tmp_path: Path, min_votes: int) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "arena.sqlite3"
    options = ["--results-dir", str(_results(tmp_path)), "--runs-dir", str(tmp_path / "runs"),
               "--arena-db", str(db), "--arena-min-votes", str(min_votes)]  # fmt: skip
    with board_server(options, tmp_path) as url:
        yield url, db


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with _server(tmp_path, 1) as found:
        yield found


def _keep(shot: Path) -> None:
    target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(target) / shot.name)


def test_voting_in_the_arena_changes_the_ratings(server: tuple[str, Path], tmp_path: Path) -> None:
    url, db = server
    executable = chromium_path()
    api = playwright_api()
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1600})
            page.goto(url)
            page.get_by_role("tab", name="Arena").click(timeout=120_000)
            page.get_by_text("No votes on this task yet.").wait_for(timeout=60_000)
            page.get_by_role("button", name="A is better").click(timeout=60_000)
            page.get_by_text("A was ").wait_for(timeout=60_000)
            page.get_by_text("1 votes;").wait_for(timeout=60_000)
            revealed = page.get_by_text("A was ").text_content() or ""
            model_a = revealed.split("A was ")[1].split(",")[0]
            table = page.locator('[data-testid="stDataFrame"]').first
            api.expect(table).to_contain_text(model_a, timeout=60_000)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
            after_one = table.text_content()
            page.get_by_role("button", name="Next pair").click()
            page.get_by_role("button", name="B is better").click(timeout=60_000)
            page.get_by_text("2 votes;").wait_for(timeout=60_000)
            api.expect(table).not_to_have_text(after_one or "", timeout=60_000)  # the ratings moved
            assert not page.locator('[data-testid="stException"]').count()
            page.reload()  # a new Streamlit session in the same browser: still the same voter
            page.get_by_role("tab", name="Arena").click(timeout=120_000)
            page.get_by_role("textbox").first.fill("ada")
            page.get_by_role("textbox").first.press("Enter")
            page.get_by_role("button", name="Tie").click(timeout=60_000)
            page.get_by_text("3 votes;").wait_for(timeout=60_000)
            page.wait_for_timeout(800)
            shot = tmp_path / "arena.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    votes = ArenaStore(db).votes("demo")
    assert [v.winner for v in votes] == ["a", "b", "tie"] and all(v.voter.startswith("anon-") for v in votes)
    assert len({voter_key(v.voter) for v in votes}) == 1 and votes[2].voter.endswith(" name:ada")
    assert shot.stat().st_size > 10_000
    _keep(shot)


def _matchup(page: Any) -> tuple[str, str, str]:
    """(the sample's label, explanation A, explanation B) as the page shows them before the vote."""
    texts = page.locator('[data-testid="stText"]').all_text_contents()
    at = next(i for i, t in enumerate(texts) if t.startswith("Sample "))
    return texts[at], texts[at + 1], texts[at + 2]


def _wait_for_image(page: Any, shot: Path) -> None:
    """Wait until the matchup's image is visible (a non-empty box once its file has loaded: slow on a
    loaded machine); when it never is, fail with what the page showed instead and keep a screenshot."""
    try:
        page.locator('[data-testid="stImage"] img').first.wait_for(timeout=150_000)
    except Exception:
        page.screenshot(path=str(shot), full_page=True)
        _keep(shot)
        seen = page.locator('[data-testid="stImage"]').evaluate_all(
            "es => es.map(e => e.outerHTML.slice(0, 300))"
        )
        captions = page.locator('[data-testid="stCaption"]').all_text_contents()
        texts = page.locator('[data-testid="stText"]').all_text_contents()
        pytest.fail(f"no image shown: stImage {seen}, captions {captions}, texts {texts}; screenshot {shot}")


def test_the_arena_never_shows_a_fixed_sentence_pair_or_a_label_bearing_id(tmp_path: Path) -> None:
    rows = [
        json.loads(line)
        for line in (COMMITTED / "random" / "demo" / "samples.jsonl").read_text().splitlines()
    ]
    ids = [str(r["id"]) for r in rows]  # camera/real/0003.png: the folder names the label
    leaks = set(ids) | {i.rsplit("/", 1)[-1] for i in ids}
    executable = chromium_path()
    api = playwright_api()
    with _server(tmp_path, 3) as (url, db), api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.get_by_role("tab", name="Arena").click(timeout=120_000)
            for k in range(5):
                page.get_by_role("button", name="A is better").wait_for(timeout=60_000)
                _wait_for_image(page, tmp_path / f"arena-no-image-{k}.png")
                label, text_a, text_b = _matchup(page)
                assert label.startswith("Sample #") and len(label) == len("Sample #") + 10, label
                assert " ".join(text_a.split()).casefold() != " ".join(text_b.split()).casefold()
                assert text_a not in FIXED and text_b not in FIXED, (text_a, text_b)
                html = page.content()
                assert not [leak for leak in leaks if leak in html], "a sample id or file name is on the page"
                sources = page.locator("img").evaluate_all("images => images.map(i => i.src)")
                assert sources and not [s for s in sources for leak in leaks if leak in s]
                if k == 0:
                    page.wait_for_timeout(700)
                    page.screenshot(path=str(tmp_path / "arena-matchup.png"), full_page=True)
                page.get_by_role("button", name="AB"[k % 2] + " is better").click()
                page.get_by_text("A was ").wait_for(timeout=60_000)
                revealed = page.get_by_text("A was ").text_content() or ""
                assert "parrot" not in revealed
                if k == 0:  # one vote: no rating yet, whatever it would say
                    page.get_by_text("No model has 3 votes yet").wait_for(timeout=60_000)
                    assert not page.locator('[data-testid="stDataFrame"]').count()
                    page.get_by_text("Not rated yet").evaluate("c => c.scrollIntoView()")
                    page.wait_for_timeout(700)
                    page.screenshot(path=str(tmp_path / "arena-waiting.png"))
                page.get_by_role("button", name="Next pair").click()
            page.get_by_text("5 votes;").wait_for(timeout=60_000)
            table = page.locator('[data-testid="stDataFrame"]').first
            api.expect(table).to_contain_text("fakevlm-demo", timeout=60_000)
            # the grid's accessible header cells are filled in after its rows, and a rerun redraws the grid:
            # read them until they are there (at most a minute), then check them
            wanted = {"Rating", "CI low", "CI high", "Votes"}
            for _ in range(120):
                headers = table.evaluate(
                    "g => Array.from(g.querySelectorAll('[role=columnheader]')).map(h => h.textContent)"
                )
                if wanted <= {h.strip() for h in headers}:
                    break
                page.wait_for_timeout(500)
            assert wanted <= {h.strip() for h in headers}, headers
            assert not page.locator('[data-testid="stException"]').count()
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
            page.wait_for_timeout(800)  # the page settles (a rerun redraws the heading)
            page.get_by_role("heading", name="Human ratings").evaluate("h => h.scrollIntoView()")
            page.wait_for_timeout(800)
            shot = tmp_path / "arena-ratings.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    votes = ArenaStore(db).votes("demo")
    assert len(votes) == 5 and not [v for v in votes if "parrot" in v.model_a + v.model_b]
    _keep(tmp_path / "arena-matchup.png")
    _keep(tmp_path / "arena-waiting.png")
    _keep(shot)
