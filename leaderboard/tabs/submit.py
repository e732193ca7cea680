"""Submit: upload a run folder; it is stored only when re-scoring reproduces every claimed number."""

from __future__ import annotations

import streamlit as st

from harness.errors import SpotfakeError
from leaderboard import data as lb
from leaderboard.received import files_from_uploads
from leaderboard.submission import parse_results, submit
from leaderboard.tabs.context import BoardContext
from leaderboard.views import md_escape


def render(ctx: BoardContext) -> None:
    """The upload form and its verdict."""
    config = ctx.config
    st.write(
        "Submit a run folder: `results.json` and `samples.jsonl` as written by `spotfake run` or "
        "`spotfake score`, as one .zip or as the two files. The leaderboard re-scores the answers against "
        "its own copy of the task and accepts the submission only if every claimed number matches."
    )
    if config.results_dir is None:
        st.info("No results folder is configured; submissions cannot be stored.")
        return
    with st.form("submission", clear_on_submit=False):
        uploads = st.file_uploader(
            "Run folder files",
            type=["zip", "json", "jsonl"],
            accept_multiple_files=True,
            max_upload_size=max(1, config.limits.archive_bytes // 2**20),
            key="submission_files",
        )
        replace = st.checkbox(
            "Replace an earlier submission of the same model and task", key="submission_replace"
        )
        sent = st.form_submit_button("Check and submit")
    if not sent:
        return
    if not uploads:
        st.error("Choose a .zip or the two files first.")
        return
    try:
        files = files_from_uploads([(u.name, u.getvalue()) for u in uploads], config.limits)
        task = parse_results(files.results)["task"]["name"]
        folder, checked = submit(
            files, config.results_dir, data_root=config.data_root(task), limits=config.limits, replace=replace
        )
    except SpotfakeError as exc:
        st.error("Refused: " + md_escape(exc))
        return
    metrics = checked.results["metrics"]
    summary = ", ".join(
        f"{lb.metric_label(k)} {metrics[k]:.3f}" for k in lb.PREFERRED_METRICS if metrics.get(k) is not None
    )
    st.success(
        f"Accepted: {md_escape(checked.model)} on {md_escape(checked.task)} ({md_escape(summary)}). "
        f"Stored in {md_escape(folder)}."
    )
