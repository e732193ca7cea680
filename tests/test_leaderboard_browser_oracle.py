"""An "oracle" submission (p(fake) copied from the public labels) in a real Chromium: the Submit tab accepts
it (its numbers match its answers), and the board page flags it and ranks it apart: its Source cell reads
"submitted ⚑", it has no rank, it comes after every ranked row, and the flagged banner names it.

Skips only when Chromium is absent and ``CI`` is not set.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from arena_runs import COMMITTED
from fixtures.leaderboard.board import run_models
from test_leaderboard_browser import (
    CHROMIUM_FLAGS,
    _grid_rows,
    _headers,
    board_server,
    chromium_path,
    playwright_api,
)
from test_leaderboard_suspicion import Oracle

from spotfake.harness.task import load_task

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("leaderboard_browser")]
FLAGGED = "submitted ⚑"


def _oracle_upload(tmp_path: Path) -> Path:
    """The oracle's run on the demo task, zipped as a submission (``oracle/demo/...``)."""
    (folder,) = run_models(load_task("demo"), tmp_path / "to-submit", [Oracle()])
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for name in ("results.json", "samples.jsonl"):
            archive.write(folder / name, f"oracle/demo/{name}")
    return upload


def test_an_oracle_submission_is_accepted_flagged_and_ranked_apart_in_chromium(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for model in ("random", "always-fake", "npr-demo"):
        shutil.copytree(COMMITTED / model / "demo", results / "reproduced" / model / "demo")
    upload = _oracle_upload(tmp_path)
    options = ["--results-dir", str(results), "--runs-dir", str(tmp_path / "runs"),
               "--arena-db", str(tmp_path / "board.sqlite3")]  # fmt: skip
    executable = chromium_path()
    api = playwright_api()
    with board_server(options, tmp_path) as url, api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.get_by_role("heading", name="Task: demo").wait_for(timeout=120_000)
            page.get_by_role("tab", name="Submit").click()
            page.get_by_role("button", name="Check and submit").wait_for(timeout=60_000)
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
            page.get_by_text("upload.zip").wait_for(timeout=30_000)
            page.get_by_role("button", name="Check and submit").click()
            page.get_by_text("Accepted: oracle on demo").first.wait_for(timeout=120_000)  # its checks pass

            page.reload()  # the stored board, as the next visitor sees it
            page.get_by_role("heading", name="Task: demo").wait_for(timeout=120_000)
            grid = page.locator('[data-testid="stDataFrame"]').first
            api.expect(grid.get_by_text(FLAGGED, exact=True)).to_have_count(1, timeout=60_000)
            headers = _headers(grid)
            name_col, rank, source = headers.index("Model"), headers.index("Rank"), headers.index("Source")
            rows = _grid_rows(grid)
            names = [row[name_col] for row in rows]
            assert sorted(names) == ["always-fake", "npr-demo", "oracle", "random"], names
            oracle = names.index("oracle")
            assert rows[oracle][source] == FLAGGED and not rows[oracle][rank].strip()
            ranked = [k for k, row in enumerate(rows) if row[rank].strip()]
            assert len(ranked) == 3 and max(ranked) < oracle  # after every ranked row
            assert [rows[k][rank] for k in ranked] == ["1", "2", "3"]
            assert all(rows[k][source] != FLAGGED for k in ranked)
            banner = page.locator('[data-testid="stAlertContentWarning"]').filter(
                has_text="flagged submission"
            )
            api.expect(banner).to_have_count(1, timeout=30_000)
            text = banner.inner_text()
            assert "1 flagged submission(s)" in text and "oracle (" in text and "labels" in text, text
            assert not page.locator('[data-testid="stException"]').count()
            grid.scroll_into_view_if_needed()
            page.wait_for_timeout(700)
            shot = tmp_path / "oracle-flagged.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(target) / shot.name)
