"""The Submit tab in a real Chromium, on a board that serves the demo task with its labels held out: the
check shows its steps, the first submission of a name shows its owner token once, the board shows the
submission's metadata and tells it apart from the reproduced run of the same name, a second browser
cannot overwrite it without the token, and no tab shows per-sample correctness of the held-out task.

Skips only when Chromium is absent and ``CI`` is not set.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from arena_runs import COMMITTED
from test_leaderboard_browser import (
    CHROMIUM_FLAGS,
    _grid_rows,
    _headers,
    board_server,
    chromium_path,
    playwright_api,
)

from spotfake.harness.task import load_task
from spotfake.leaderboard.tabs.context import HELD_OUT

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("leaderboard_browser")]
REPLACE = "Replace my earlier submission of the same model and task"


def _zip(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as archive:
        for name in ("results.json", "samples.jsonl"):
            archive.write(folder / name, f"random/demo/{name}")
    return dest


def _labels(path: Path) -> Path:
    """The demo task's labels as a host's private file (outside the results folder)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "label"])
    writer.writerows((s.id, s.label) for s in load_task("demo").samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue())
    return path


def _shot(page: Any, folder: Path, name: str, shots: list[Path]) -> None:
    page.wait_for_timeout(700)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    shots.append(path)


def _submit(page: Any, upload: Path, *, token: str = "", replace: bool = False, **about: str) -> None:
    page.get_by_role("tab", name="Submit").click()
    page.get_by_role("button", name="Check and submit").wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    page.get_by_text("upload.zip").wait_for(timeout=30_000)
    for label, value in about.items():
        page.get_by_label(label, exact=True).fill(value)
    if token:
        page.get_by_label("Owner token", exact=True).fill(token)
    if replace:
        page.get_by_text(REPLACE, exact=True).click()
    page.get_by_role("button", name="Check and submit").click()


def test_submitting_owning_and_held_out_labels_in_chromium(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for model in ("random", "always-fake", "npr-demo"):
        shutil.copytree(COMMITTED / model / "demo", results / "reproduced" / model / "demo")
    upload = _zip(COMMITTED / "random" / "demo", tmp_path / "upload.zip")
    labels = _labels(tmp_path / "private" / "demo-labels.csv")
    db = tmp_path / "board.sqlite3"
    options = ["--results-dir", str(results), "--runs-dir", str(tmp_path / "runs"), "--arena-db", str(db),
               "--held-out-labels", f"demo={labels}"]  # fmt: skip
    executable = chromium_path()
    api = playwright_api()
    shots: list[Path] = []
    with board_server(options, tmp_path) as url, api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            owner = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            owner.goto(url)
            owner.get_by_role("heading", name="Task: demo").wait_for(timeout=120_000)
            api.expect(owner.get_by_text(HELD_OUT)).to_have_count(1, timeout=60_000)
            _submit(owner, upload, Description="A coin that explains nothing.", Paper="https://arxiv.org/abs/2503.14905",
                    Code="https://example.org/random", Licence="MIT", Contact="me@example.org")  # fmt: skip
            owner.get_by_text("Checking the submission").wait_for(timeout=30_000)  # the status box, at once
            _shot(owner, tmp_path, "submit-checking", shots)
            owner.get_by_text("Your owner token for").wait_for(timeout=120_000)
            token = owner.locator('[data-testid="stCode"]').first.inner_text().strip()
            assert token.startswith("sfo_"), token
            grid = owner.locator('[data-testid="stDataFrame"]').first
            api.expect(grid).to_contain_text("random · submitted", timeout=60_000)
            names = [row[0] for row in _grid_rows(grid)]
            assert "random · submitted" in names and "random" in names  # told apart from the reproduced run
            _shot(owner, tmp_path, "submit-accepted-token", shots)
            api.expect(grid).to_contain_text("https://arxiv.org/abs/2503.14905", timeout=60_000)  # its paper
            owner.get_by_text("More", exact=True).click()
            owner.wait_for_timeout(1500)
            grid = owner.locator('[data-testid="stDataFrame"]').first
            grid.evaluate(
                "g => { const s = g.querySelector('.dvn-scroller'); s.scrollLeft = s.scrollWidth; }"
            )
            api.expect(grid).to_contain_text("A coin that explains nothing.", timeout=60_000)
            headers = _headers(grid)  # the grid draws the columns in view: the last ones now
            assert {"Code", "Licence", "About"} <= set(headers), headers
            assert "me@example.org" not in owner.content()  # the contact is for the maintainers
            grid.scroll_into_view_if_needed()
            _shot(owner, tmp_path, "board-metadata", shots)
            owner.reload()  # the token is shown once
            owner.get_by_role("heading", name="Task: demo").wait_for(timeout=120_000)
            assert not owner.get_by_text("Your owner token for").count()

            for tab in ("Explanations", "Compare two models", "Detector curves"):
                owner.get_by_role("tab", name=tab).click()
                api.expect(owner.get_by_text(HELD_OUT, exact=False).first).to_be_visible(timeout=60_000)
                assert not owner.get_by_text(" · wrong").count() and not owner.get_by_text(" · right").count()
                _shot(owner, tmp_path, "heldout-" + tab.split()[0].lower(), shots)

            intruder = browser.new_context(
                viewport={"width": 1400, "height": 900}
            ).new_page()  # another browser
            intruder.goto(url)
            intruder.get_by_role("heading", name="Task: demo").wait_for(timeout=120_000)
            _submit(intruder, upload, replace=True)
            error = intruder.locator('[data-testid="stAlertContentError"]')
            api.expect(error).to_contain_text("belongs to whoever first submitted it", timeout=120_000)
            text = error.inner_text()
            assert "--" not in text and str(results) not in text and str(db) not in text, text
            _shot(intruder, tmp_path, "submit-refused-intruder", shots)

            _submit(owner, upload, token=token)  # the owner, without ticking "replace"
            error = owner.locator('[data-testid="stAlertContentError"]')
            api.expect(error).to_contain_text("already stored", timeout=120_000)
            text = error.inner_text()
            assert REPLACE in text and "--" not in text and str(results) not in text, text
            _shot(owner, tmp_path, "submit-duplicate", shots)
            _submit(owner, upload, token=token, replace=True, Licence="Apache-2.0")
            owner.get_by_text("Accepted: random on demo").first.wait_for(timeout=120_000)
            assert not owner.locator('[data-testid="stException"]').count()
        finally:
            browser.close()
    stored = results / "submitted" / "random" / "demo"
    assert not (stored / "samples.jsonl").exists()  # held-out labels: no per-sample records kept
    assert '"licence": "Apache-2.0"' in (stored / "results.json").read_text()  # what the owner gave last
    target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy2(shot, Path(target) / shot.name)
