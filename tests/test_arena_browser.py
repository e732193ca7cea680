"""The arena tab in a real Chromium: vote, see the names revealed and the ratings change; a reload keeps
the voter (the browser's key), whatever name is typed.

Runs ``spotfake leaderboard`` over three committed demo runs with a fresh SQLite arena database; skips
only when Chromium is absent and ``CI`` is not set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from test_leaderboard_browser import CHROMIUM_FLAGS, board_server, chromium_path

from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.voters import voter_key

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("leaderboard_browser")]
MODELS = ("fakevlm-demo", "always-fake", "random")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    results = tmp_path / "results"
    for model in MODELS:
        shutil.copytree(
            REPO_ROOT / "results" / "reproduced" / model / "demo", results / "reproduced" / model / "demo"
        )
    db = tmp_path / "arena.sqlite3"
    options = ["--results-dir", str(results), "--runs-dir", str(tmp_path / "runs"), "--arena-db", str(db)]
    with board_server(options, tmp_path) as url:
        yield url, db


def test_voting_in_the_arena_changes_the_ratings(server: tuple[str, Path], tmp_path: Path) -> None:
    url, db = server
    executable = chromium_path()
    if os.environ.get("CI"):
        import playwright.sync_api as api
    else:
        api = pytest.importorskip("playwright.sync_api")
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
    target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(target) / shot.name)
