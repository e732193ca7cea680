"""A real browser on the real app: ``spotfake leaderboard`` on a free localhost port, driven by Playwright with
Debian's Chromium. Skips only when Chromium is absent and ``CI`` is not set; in CI it must run."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.leaderboard.board import BoardPaths, build_board

from spotfake.leaderboard.cli import wait_until_healthy

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("leaderboard_browser")]
TASK = "lbtoy-browser"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    """Debian's Chromium; skip without it (fail in CI, where it must be installed)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")
    return found


def playwright_api() -> Any:
    """``playwright.sync_api``; skip without it (in CI it must be installed, so the import fails loudly)."""
    if os.environ.get("CI"):
        import playwright.sync_api as api

        return api
    return pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def board(tmp_path: Path) -> BoardPaths:
    """The toy board, plus a committed copy of one local run (the same run twice: one row expected)."""
    paths = build_board(tmp_path / "board", TASK)
    shutil.copytree(paths.runs_dir / "explainer", paths.results_dir / "reproduced" / "explainer")
    return paths


@contextlib.contextmanager
def board_server(options: list[str], tmp_path: Path) -> Iterator[str]:
    """``spotfake leaderboard OPTIONS`` on a free port in its own process group; its URL, stopped after."""
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "spotfake.harness.cli", "leaderboard", "--no-browser", "--port", str(port), *options],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_healthy(url, timeout_s=120):
            pytest.fail(f"the app did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()


@pytest.fixture
def server(board: BoardPaths, tmp_path: Path) -> Iterator[str]:
    """``spotfake leaderboard`` over the toy board, stopped after the test."""
    with board_server(
        ["--results-dir", str(board.results_dir), "--runs-dir", str(board.runs_dir)], tmp_path
    ) as url:
        yield url


def _grid_rows(grid: Any) -> list[list[str]]:
    """The cells of a data grid, row by row, from its accessible table (the grid itself is a canvas)."""
    rows: list[list[str]] = grid.evaluate(
        "g => Array.from(g.querySelectorAll('[role=row]')).map(r => "
        "Array.from(r.querySelectorAll('td')).map(c => c.textContent))"
    )
    return [r for r in rows if r]


def _headers(grid: Any) -> list[str]:
    return list(
        grid.evaluate("g => Array.from(g.querySelectorAll('[role=columnheader]')).map(h => h.textContent)")
    )


def _scrolls_sideways(grid: Any) -> bool:
    return bool(
        grid.evaluate(
            "g => { const s = g.querySelector('.dvn-scroller'); return s.scrollWidth > s.clientWidth + 1; }"
        )
    )


def _shot(page: Any, folder: Path, name: str) -> Path:
    page.wait_for_timeout(700)  # let charts finish their layout before the picture
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def test_the_leaderboard_reads_well_in_chromium_at_1400x900(
    server: str, board: BoardPaths, tmp_path: Path
) -> None:
    executable = chromium_path()
    api = playwright_api()
    sync_playwright, expect = api.sync_playwright, api.expect
    shots: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server)
            page.get_by_role("heading", name=f"Task: {TASK}").wait_for(timeout=120_000)
            grid = page.locator('[data-testid="stDataFrame"]').first
            grid.wait_for(timeout=60_000)
            for text in ("always-fake", "random", "explainer", "scorer", "FakeVLM", "explainer-v2"):
                expect(grid.get_by_text(text, exact=True)).to_have_count(
                    1, timeout=60_000
                )  # no duplicate rows
            headers = _headers(grid)
            assert headers[:3] == ["Model", "Rank", "Acc"]  # the model pinned first, then the ranking metric
            assert {"Acc", "F1 (real +)", "AUC", "ROUGE-L", "vs best", "Gap"} <= set(headers)
            assert not _scrolls_sideways(grid), (
                "the first screen's table needs a horizontal scroll at 1400 px"
            )
            box = grid.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 1400 and box["y"] + 120 < 900
            rows = _grid_rows(grid)
            assert [r[1] for r in rows[:2]] == ["1", "2"]  # ranked (column 0 is the pinned model)
            assert len({(r[1], r[2]) for r in rows}) == len(rows) == 6
            source = headers_index(grid, "Source")
            # reproduced runs first, the submission ranked apart (from 1), the paper's row last, unranked
            assert [r[source] for r in rows] == ["reproduced"] * 4 + ["submitted", "reported"]
            assert [r[1] for r in rows[4:]] == ["1", ""]
            expect(page.get_by_text("not on spotfake's samples", exact=False)).to_have_count(1)
            assert not page.locator('[data-testid="stException"]').count()
            shots.append(_shot(page, tmp_path, "leaderboard"))

            page.get_by_role("tab", name="Overview").click()
            overview = page.locator('[data-testid="stDataFrame"]').first
            expect(overview).to_contain_text("Avg rank", timeout=60_000)
            assert f"{TASK} · Acc" in _headers(overview)
            assert _headers(overview)[:3] == ["Model", "Score", f"{TASK} · Acc"]  # a phone's first screen
            params, source = headers_index(overview, "Params"), headers_index(overview, "Source")
            # the grid's accessible copy holds the numbers (its canvas draws them short: 7B), so the
            # column sorts by the number
            cells = {(row[0], row[source]): row[params] for row in _grid_rows(overview)}
            assert cells[("FakeVLM", "reported")] == "7000000000"  # the size its paper states
            assert cells[("always-fake", "reproduced")] == ""  # a fixed rule has no weights: blank
            expect(page.get_by_text("counted at run time", exact=False)).to_have_count(1)
            shots.append(_shot(page, tmp_path, "overview"))

            page.get_by_role("tab", name="Explanations").click()
            expect(page.get_by_text("sample 1 of 24", exact=False)).to_have_count(1, timeout=60_000)
            page.get_by_role("button", name="next →").click()
            expect(page.get_by_text("sample 2 of 24", exact=False)).to_have_count(1, timeout=30_000)
            page.get_by_role("button", name="← previous").click()
            expect(page.get_by_text("sample 1 of 24", exact=False)).to_have_count(1, timeout=30_000)
            page.get_by_role("button", name="← previous").click()  # wraps around to the last sample
            expect(page.get_by_text("sample 24 of 24", exact=False)).to_have_count(1, timeout=30_000)
            shots.append(_shot(page, tmp_path, "explanations"))

            page.get_by_role("tab", name="Compare two models").click()
            sentence = page.get_by_role("heading", name=re.compile(r"'s Acc is \d\.\d{3}"))
            expect(sentence).to_have_count(1, timeout=60_000)
            assert re.search(
                r"95% CI [+-]\d\.\d{3} to [+-]\d\.\d{3}, McNemar \(exact\) p [=<] \d", sentence.inner_text()
            )
            shots.append(_shot(page, tmp_path, "compare"))

            page.get_by_role("tab", name="Submit").click()
            expect(page.get_by_text("Size limits:", exact=False)).to_have_count(1, timeout=60_000)
            shots.append(_shot(page, tmp_path, "submit"))
            assert not page.locator('[data-testid="stException"]').count()
        finally:
            browser.close()
    assert all(shot.stat().st_size > 10_000 for shot in shots)
    target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy2(shot, Path(target) / shot.name)


def test_a_subset_chosen_above_is_what_compare_tests(server: str, tmp_path: Path) -> None:
    """The Category control offers every breakdown (here ``source``), and Compare tests that subset: its
    sentence names it and counts its samples, and the board's 'vs best' never claims a test it did not run."""
    executable = chromium_path()
    api = playwright_api()
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server)
            page.get_by_role("heading", name=f"Task: {TASK}").wait_for(timeout=120_000)
            grid = page.locator('[data-testid="stDataFrame"]').first
            grid.wait_for(timeout=60_000)
            api.expect(grid.get_by_text("scorer", exact=True)).to_have_count(1, timeout=60_000)
            column, rank = headers_index(grid, "vs best"), headers_index(grid, "Rank")
            ranked = [row for row in _grid_rows(grid) if row[rank].strip()]
            assert ranked and all(row[column] for row in ranked)  # best, tied/worse (p), or not tested
            assert ranked[0][column] == "best"
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Category").click()
            option = page.get_by_role("option", name=re.compile(r"^source: "))
            api.expect(option.first).to_be_visible(timeout=30_000)
            chosen = option.first.inner_text().strip()
            option.first.click()
            api.expect(page.get_by_text(chosen, exact=False).first).to_be_visible(timeout=60_000)
            page.get_by_role("tab", name="Compare two models").click()
            sentence = page.get_by_role("heading", name=re.compile(r"samples both ran in source: "))
            api.expect(sentence).to_have_count(1, timeout=60_000)
            assert re.search(rf"on the 12 samples both ran in {re.escape(chosen)}", sentence.inner_text())
            _shot(page, tmp_path, "compare-subset")
            assert not page.locator('[data-testid="stException"]').count()
        finally:
            browser.close()


def headers_index(grid: Any, name: str) -> int:
    """The position of column ``name`` in a grid's rows (as :func:`_grid_rows` returns them)."""
    return _headers(grid).index(name)


def test_a_phone_sees_the_model_and_its_headline_metric_with_its_interval(
    server: str, tmp_path: Path
) -> None:
    executable = chromium_path()
    api = playwright_api()
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            page.goto(server)
            page.get_by_role("heading", name=f"Task: {TASK}").wait_for(timeout=120_000)
            grid = page.locator('[data-testid="stDataFrame"]').first
            grid.wait_for(timeout=60_000)
            api.expect(grid.get_by_text("scorer", exact=True)).to_have_count(1, timeout=60_000)
            assert _headers(grid)[:3] == ["Model", "Rank", "Acc"]  # what fits a phone's first screen
            box = grid.bounding_box()
            assert box is not None and 0 <= box["x"] < 40
            assert (
                box["y"] + 38 + 3 * 35 < 844
            )  # the header and the three best rows on the first screen, unscrolled
            shot = _shot(page, tmp_path, "phone-first-screen")
            target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
            if target:
                Path(target).mkdir(parents=True, exist_ok=True)
                shutil.copy2(shot, Path(target) / shot.name)
            grid.scroll_into_view_if_needed()
            shot = _shot(page, tmp_path, "phone")
            target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
            if target:
                Path(target).mkdir(parents=True, exist_ok=True)
                shutil.copy2(shot, Path(target) / shot.name)
        finally:
            browser.close()
