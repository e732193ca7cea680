"""Submit: upload a run folder; it is stored only when re-scoring reproduces every claimed number.

The tab says which tasks this server can check (their data is installed here) and the real size limits;
refusals say what to fix in the uploaded files. After acceptance the page reloads on the first screen with
the new row highlighted.
"""

from __future__ import annotations

import streamlit as st

from spotfake.harness.errors import SpotfakeError
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.received import Limits, files_from_uploads
from spotfake.leaderboard.submission import parse_results, submit
from spotfake.leaderboard.tabs.context import HIGHLIGHT, NOTICE, BoardContext, navigate
from spotfake.leaderboard.views import md_escape, summary_text


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MiB"


def limits_text(limits: Limits) -> str:
    """The size limits as the uploader reads them."""
    return (
        f"results.json up to {_mib(limits.results_bytes)}, samples.jsonl up to {_mib(limits.samples_bytes)} "
        f"(one record up to {_mib(limits.line_bytes)}), a .zip up to {_mib(limits.archive_bytes)}"
    )


def verifiable_tasks(ctx: BoardContext) -> list[str]:
    """Registered tasks this server can re-score: their data is given (``--data-root``) or ships with the
    task definition, and loads. Tasks without either are not loaded at all (no download is attempted)."""
    from spotfake.harness.registry import TASKS

    ok = []
    for name in TASKS.names():
        try:
            has_data = ctx.data_root(name) is not None or bool(TASKS.get(name).default_data_root)
        except SpotfakeError:
            continue  # a broken plugin task is simply not offered
        if has_data and ctx.task_samples(name)[0]:
            ok.append(name)
    return ok


def _accepted(checked_model: str, task: str, folder: str, summary: str) -> None:
    st.session_state[HIGHLIGHT] = [folder]
    st.session_state[NOTICE] = (
        f"Accepted: {md_escape(checked_model)} on {md_escape(task)} ({md_escape(summary)}); highlighted below."
    )
    navigate("Leaderboard", task)


def render(ctx: BoardContext) -> None:
    """What can be verified here, the upload form and its verdict."""
    config = ctx.config
    if not config.submissions:
        st.info(
            "This server does not take submissions. Check and store a run where the results are kept: "
            "`spotfake submit RUN_DIR --results-dir DIR --data-root DATA`."
        )
        return
    if config.results_dir is None:
        st.info(
            "No results folder is configured; start the board with --results-dir DIR to accept submissions."
        )
        return
    ok = verifiable_tasks(ctx)
    st.write(
        "Submit a run folder: `results.json` and `samples.jsonl` as written by `spotfake run` or "
        "`spotfake score`, as one .zip or as the two files. This server re-scores the answers against its "
        "own copy of the task and accepts the submission only if every claimed number matches."
    )
    st.markdown(
        "**Tasks this server can check:** "
        + (", ".join(f"`{md_escape(t)}`" for t in ok) if ok else "none (no task's data is installed here)")
        + f"  \n**Size limits:** {limits_text(config.limits)}."
    )
    with st.form("submission", clear_on_submit=False):
        uploads = st.file_uploader(
            "Run folder files (.zip, or results.json + samples.jsonl)",
            type=["zip", "json", "jsonl"],
            accept_multiple_files=True,
            max_upload_size=max(1, config.limits.archive_bytes // 2**20),
            key="submission_files",
            help=limits_text(config.limits),
        )
        replace = st.checkbox(
            "Replace my earlier submission of the same model and task", key="submission_replace"
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
        if task not in ok:
            raise SpotfakeError(
                f"this server cannot check task {task!r}: its data is not installed here. Tasks it can check: "
                f"{', '.join(ok) or 'none'}. Submit your run of one of those, or to a server with that data"
            )
        folder, checked = submit(
            files, config.results_dir, data_root=config.data_root(task), limits=config.limits, replace=replace
        )
    except SpotfakeError as exc:
        st.error("Refused: " + md_escape(exc))
        return
    summary = summary_text(checked.results["metrics"], lb.DEFAULT_SHOWN)
    _accepted(checked.model, checked.task, str(folder), summary)
    st.success(f"Accepted: {md_escape(checked.model)} on {md_escape(checked.task)} ({md_escape(summary)}).")
    st.rerun()
