"""The spotfake leaderboard: a Streamlit app over result folders. It never runs a model.

Started by ``spotfake leaderboard`` (which runs ``streamlit run`` on 127.0.0.1); the options come after
Streamlit's ``--``: ``--results-dir DIR --runs-dir DIR [--data-root [TASK=]DIR ...]``.

This file is the shell: page, sidebar and the tab list. Each tab is a module under ``leaderboard/tabs/``
with ``render(ctx: BoardContext) -> None``; only the tab on screen runs. Untrusted text (model names,
responses, ids, refusal reasons) is shown with ``st.text``/``st.code`` or markdown-escaped; no HTML is ever
rendered.
"""

from __future__ import annotations

import importlib
import sys

import streamlit as st

from spotfake.leaderboard import data as lb
from spotfake.leaderboard.config import AppConfig, parse_args
from spotfake.leaderboard.sidebar import sidebar
from spotfake.leaderboard.tabs.context import HIGHLIGHT, PENDING, BoardContext

__all__ = ["TABS", "AppConfig", "main", "parse_args"]

TABS: tuple[tuple[str, str], ...] = (
    ("Leaderboard", "spotfake.leaderboard.tabs.board"),
    ("Overview", "spotfake.leaderboard.tabs.overview"),
    ("Per category", "spotfake.leaderboard.tabs.categories"),
    ("Detector curves", "spotfake.leaderboard.tabs.detector"),
    ("Explanations", "spotfake.leaderboard.tabs.viewer"),
    ("Compare two models", "spotfake.leaderboard.tabs.compare"),
    ("Arena", "spotfake.leaderboard.tabs.arena"),
    ("Submit", "spotfake.leaderboard.tabs.submit"),
)
"""(label, module) of every tab, in order; a module's ``render(ctx)`` draws the tab."""
TAB_KEY = "tab"
"""Session-state key of the tab on screen (set it in a callback to switch tabs)."""


def apply_pending_navigation() -> None:
    """Move to the tab and task a previous run asked for (widget state may only change before the widget)."""
    pending = st.session_state.pop(PENDING, None)
    if isinstance(pending, dict):
        for key, state in (("tab", TAB_KEY), ("task", "task")):
            if pending.get(key):
                st.session_state[state] = pending[key]


def main(config: AppConfig) -> None:
    """Render the page: title, problems, sidebar, then the tab on screen."""
    st.set_page_config(page_title="spotfake leaderboard", layout="wide", initial_sidebar_state="collapsed")
    apply_pending_navigation()
    st.title("spotfake leaderboard")
    st.caption(
        "Synthetic-image and deepfake detection, with explanations: who is best, by how much, how sure."
    )
    board = lb.load_board(config.results_dir, config.runs_dir)
    if board.problems:
        with st.expander(
            f"{len(board.problems)} result file(s) could not be read and are left out", expanded=False
        ):
            for problem in board.problems:
                st.text(problem)
    ctx = BoardContext(
        config=config,
        board=board,
        filters=sidebar(board, config),
        highlight=frozenset(st.session_state.get(HIGHLIGHT, ())),
    )
    tabs = st.tabs([label for label, _ in TABS], key=TAB_KEY, on_change="rerun")
    for (_, module), tab in zip(TABS, tabs, strict=True):
        if tab.open:
            with tab:
                importlib.import_module(module).render(ctx)


if __name__ == "__main__":
    main(parse_args(sys.argv[1:]))
