"""A real browser on the real app: ``spotfake leaderboard`` on a free localhost port, driven by Playwright with
Debian's Chromium. Skips only when Chromium is absent and ``CI`` is not set; in CI it must run."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.leaderboard.board import BoardPaths, build_board

from leaderboard.cli import wait_until_healthy

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def board(tmp_path: Path) -> BoardPaths:
    return build_board(tmp_path / "board", TASK)


@pytest.fixture
def server(board: BoardPaths, tmp_path: Path) -> Iterator[str]:
    """``spotfake leaderboard`` in its own process group, stopped after the test."""
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "harness.cli", "leaderboard", "--no-browser", "--port", str(port),
            "--results-dir", str(board.results_dir), "--runs-dir", str(board.runs_dir),
        ],
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


def test_the_leaderboard_renders_in_chromium(server: str, board: BoardPaths, tmp_path: Path) -> None:
    executable = chromium_path()
    if os.environ.get("CI"):
        import playwright.sync_api as api
    else:
        api = pytest.importorskip("playwright.sync_api")
    sync_playwright, expect = api.sync_playwright, api.expect

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            page.goto(server)
            table = page.locator('[data-testid="stDataFrame"]').first
            table.wait_for(timeout=120_000)
            page.get_by_role("heading", name=f"Task: {TASK}").wait_for(timeout=30_000)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
            # the grid fills in over the websocket after the element appears: wait for its cells
            for text in ("always-fake", "random", "explainer", "scorer", "FakeVLM", "explainer-v2"):
                expect(table.get_by_text(text, exact=True)).to_have_count(1, timeout=60_000)
            for text in ("reported", "submitted", "local run (runs/)", "committed (results/)"):
                expect(table).to_contain_text(text, timeout=30_000)
            assert not page.locator('[data-testid="stException"]').count()
            page.wait_for_timeout(500)  # let the chart finish its layout before the picture
            shot = tmp_path / "leaderboard.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    target = os.environ.get("SPOTFAKE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(target) / shot.name)
