"""Submit: upload a run folder; it is stored only when re-scoring reproduces every claimed number.

The tab says which tasks this server can check (their data is installed here) and the real size limits;
the check shows each step as it runs; refusals say what to fix in the uploaded files, in the uploader's
words (never a server path or a command-line option). The first accepted submission of a model name gets
an owner token, shown once on the first screen; replacing a submission, or submitting under that name
again, needs it. After acceptance the page reloads on the first screen with the new row highlighted.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from spotfake.harness.errors import SpotfakeError
from spotfake.leaderboard import data as lb
from spotfake.leaderboard.received import Limits, files_from_uploads
from spotfake.leaderboard.submission import parse_results, submit
from spotfake.leaderboard.submission.heldout import HeldOutLabels, read_held_out
from spotfake.leaderboard.submission.owners import OwnerStore
from spotfake.leaderboard.submission.store import AlreadyStored
from spotfake.leaderboard.tabs.context import HIGHLIGHT, NOTICE, BoardContext, navigate
from spotfake.leaderboard.views import md_escape, summary_text

OWNER_TOKEN = "owner_token"
"""Session-state key: (model, token) of an owner token just issued, shown once on the first screen."""
REPLACE_LABEL = "Replace my earlier submission of the same model and task"
METADATA = (
    ("description", "Description", "what the model is and how it was trained (at most 500 characters)"),
    ("paper", "Paper", "a link to the paper, e.g. https://arxiv.org/abs/2503.14905"),
    ("code", "Code", "a link to the code or weights"),
    ("contact", "Contact", "an e-mail or a page, for the board's maintainers (not shown on the board)"),
    ("licence", "Licence", "the licence of the model or its weights, e.g. Apache-2.0"),
    ("parameters", "Parameters", "how many parameters the model has, e.g. 7100000000 (shown as declared)"),
)


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MiB"


def limits_text(limits: Limits) -> str:
    """The size limits as the uploader reads them."""
    return (
        f"results.json up to {_mib(limits.results_bytes)}, samples.jsonl up to {_mib(limits.samples_bytes)} "
        f"(one record up to {_mib(limits.line_bytes)}), a .zip up to {_mib(limits.archive_bytes)}"
    )


def refusal(exc: SpotfakeError) -> str:
    """A refusal in the uploader's words: a duplicate says how to replace it here (no server path, no
    command-line option); every other reason is already about the uploaded files."""
    if isinstance(exc, AlreadyStored):
        return (
            f"a submission of {exc.model!r} on {exc.task!r} is already stored. To replace it, tick "
            f"'{REPLACE_LABEL}' and give the owner token you received when you first submitted it"
        )
    return str(exc)


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


@st.cache_resource(show_spinner=False)
def _owners(url: str) -> OwnerStore:
    return OwnerStore(url)


def show_owner_token() -> None:
    """The owner token issued in this session, once (the first screen calls this after an acceptance)."""
    issued = st.session_state.pop(OWNER_TOKEN, None)
    if not issued:
        return
    model, token = issued
    st.warning(
        f"**Your owner token for {md_escape(model)}**, shown only this once: keep it. Replacing this "
        "submission, or submitting under this model name again, needs it; the board keeps only a hash of it.",
        icon=":material/key:",
    )
    st.code(token, language=None)


def _accepted(checked_model: str, task: str, folder: str, summary: str, token: str | None) -> None:
    st.session_state[HIGHLIGHT] = [folder]
    st.session_state[NOTICE] = (
        f"Accepted: {md_escape(checked_model)} on {md_escape(task)} ({md_escape(summary)}); highlighted below."
    )
    if token:
        st.session_state[OWNER_TOKEN] = (checked_model, token)
    navigate("Leaderboard", task)


def _held_out(ctx: BoardContext, task: str) -> HeldOutLabels | None:
    path = ctx.config.held_out_labels.get(task)
    if path is None:
        return None
    try:
        return read_held_out(path, ctx.results_dir)
    except SpotfakeError:
        raise SpotfakeError(
            f"this server cannot score task {task!r} right now (its held-out labels cannot be read); "
            "tell the board's maintainers"
        ) from None


def _form(limits: Limits) -> tuple[list[UploadedFile] | None, dict[str, str], str, bool, bool]:
    """The upload form: (files, metadata, owner token, replace, sent)."""
    with st.form("submission", clear_on_submit=False):
        uploads = st.file_uploader(
            "Run folder files (.zip, or results.json + samples.jsonl)",
            type=["zip", "json", "jsonl"],
            accept_multiple_files=True,
            max_upload_size=max(1, limits.archive_bytes // 2**20),
            key="submission_files",
            help=limits_text(limits),
        )
        st.caption("About the model (optional; shown on the board, except the contact)")
        (field, label, help_text), *fields = METADATA
        metadata = {
            field: st.text_area(label, key=f"submission_{field}", help=help_text, max_chars=500, height=80)
        }
        columns = st.columns(2)
        for n, (field, label, help_text) in enumerate(fields):
            metadata[field] = columns[n % 2].text_input(
                label, key=f"submission_{field}", help=help_text, max_chars=300
            )
        token = st.text_input(
            "Owner token",
            type="password",
            key="submission_token",
            help="the token shown when this model name was first accepted; needed to replace a submission or "
            "to submit under that name again",
        )
        replace = st.checkbox(REPLACE_LABEL, key="submission_replace")
        sent = st.form_submit_button("Check and submit")
    return uploads, {k: v or "" for k, v in metadata.items()}, token or "", replace, sent


def render(ctx: BoardContext) -> None:
    """What can be verified here, the upload form, the check's steps and its verdict."""
    config = ctx.config
    if not config.submissions:
        st.info(
            "This server does not take submissions. Check and store a run where the results are kept: "
            "`spotfake submit RUN_DIR --results-dir DIR --data-root DATA`."
        )
        return
    url = config.database()
    if config.results_dir is None or url is None:
        st.info(
            "No results folder or database is configured; start the board with --results-dir DIR (and "
            "--runs-dir or --arena-db) to accept submissions."
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
    uploads, metadata, token, replace, sent = _form(config.limits)
    if not sent:
        return
    if not uploads:
        st.error("Choose a .zip or the two files first.")
        return
    failure: str | None = None
    with st.status("Checking the submission ...", expanded=True) as status:
        try:
            files = files_from_uploads([(u.name, u.getvalue()) for u in uploads], config.limits)
            task = parse_results(files.results)["task"]["name"]
            if task not in ok:
                raise SpotfakeError(
                    f"this server cannot check task {task!r}: its data is not installed here. Tasks it can "
                    f"check: {', '.join(ok) or 'none'}. Submit your run of one of those, or to a server with "
                    "that data"
                )
            try:
                owners = _owners(url)
            except SpotfakeError:
                raise SpotfakeError(
                    "this server cannot record who owns a submission right now; try again later"
                ) from None
            folder, checked = submit(
                files,
                config.results_dir,
                data_root=config.data_root(task),
                limits=config.limits,
                replace=replace,
                owners=owners,
                token=token,
                metadata=metadata,
                held_out=_held_out(ctx, task),
                progress=status.write,
                css_clip_model=config.css_clip_model,
            )
        except SpotfakeError as exc:
            failure = refusal(exc)
            status.update(label="Refused", state="error", expanded=False)
        else:
            status.update(label="Accepted", state="complete", expanded=False)
    if failure is not None:
        st.error("Refused: " + md_escape(failure))
        return
    summary = summary_text(checked.results["metrics"], lb.DEFAULT_SHOWN)
    _accepted(checked.model, checked.task, str(folder), summary, checked.owner_token)
    st.success(f"Accepted: {md_escape(checked.model)} on {md_escape(checked.task)} ({md_escape(summary)}).")
    st.rerun()
