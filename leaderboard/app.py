"""The spotfake leaderboard: a Streamlit app over result folders. It never runs a model.

Started by ``spotfake leaderboard`` (which runs ``streamlit run`` on 127.0.0.1); the options come after
Streamlit's ``--``: ``--results-dir DIR --runs-dir DIR [--data-root [TASK=]DIR ...]``.

Untrusted text (model names, responses, ids, refusal reasons) is shown with ``st.text``/``st.code`` or
markdown-escaped; no HTML is ever rendered.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from harness.errors import SpotfakeError
from leaderboard import data as lb
from leaderboard.received import Limits, files_from_uploads
from leaderboard.stats import mcnemar, paired_bootstrap
from leaderboard.submission import parse_results, submit
from leaderboard.views import bar_chart, display_table, format_ci, heatmap, md_escape

ALL = "All"
TABLE_DEFAULT_METRICS = ("acc", "f1", "f1_macro", "auc", "rouge_l", "css", "unparsed_rate")
BOOTSTRAP_RESAMPLES = 10_000


@dataclass(frozen=True)
class AppConfig:
    """Where the app reads results from and where task data (images, references) lives."""

    results_dir: Path | None = Path("results")
    runs_dir: Path | None = Path("runs")
    data_roots: Mapping[str, Path] = field(default_factory=dict)
    limits: Limits = Limits()

    def data_root(self, task: str) -> Path | None:
        """The data root for ``task``: its own (``TASK=DIR``), else the default one (``DIR``), else None."""
        return self.data_roots.get(task, self.data_roots.get(""))


def parse_data_roots(values: Sequence[str]) -> dict[str, Path]:
    """``["DIR", "loki=DIR2"]`` -> ``{"": DIR, "loki": DIR2}``."""
    roots: dict[str, Path] = {}
    for value in values:
        task, sep, folder = value.partition("=")
        if sep and task and "/" not in task and "\\" not in task:
            roots[task] = Path(folder)
        else:
            roots[""] = Path(value)
    return roots


def parse_args(argv: Sequence[str]) -> AppConfig:
    """The app's own options (what follows ``--`` on the ``streamlit run`` line)."""
    parser = argparse.ArgumentParser(prog="leaderboard/app.py")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--data-root", action="append", default=[])
    args = parser.parse_args(list(argv))
    return AppConfig(
        results_dir=Path(args.results_dir),
        runs_dir=Path(args.runs_dir),
        data_roots=parse_data_roots(args.data_root),
    )


# ------------------------------------------------------------------------------------------ cached loading


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_resource(max_entries=64, show_spinner=False)
def _samples(folder: str, mtime: int) -> pd.DataFrame:
    return lb.load_samples(Path(folder))


def samples_of(entry: lb.RunEntry) -> pd.DataFrame:
    """The records of a run (cached until its samples.jsonl changes)."""
    return _samples(str(entry.folder), _mtime(entry.samples_path))


@st.cache_resource(max_entries=16, show_spinner="Loading the task's samples ...")
def _task(name: str, data_root: str | None) -> tuple[dict[str, Any] | None, str]:
    from harness.registry import TASKS
    from harness.task import load_task

    if name not in TASKS:  # only registered tasks: a name from a result file is never a path to a task file
        return None, f"task {name!r} is not registered in this installation"
    try:
        task = load_task(name, data_root)
    except Exception as exc:  # a missing data root or a broken reader must not take the page down
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return {s.id: s for s in task.samples}, ""


@st.cache_resource(max_entries=64, show_spinner=False)
def _comparison(key_a: str, mtime_a: int, key_b: str, mtime_b: int, metric: str) -> dict[str, Any]:
    a = lb.load_samples(Path(key_a))
    b = lb.load_samples(Path(key_b))
    pair = lb.paired_values(a, b, metric)
    out: dict[str, Any] = {
        "n": len(pair),
        "only_a": len(a.index.difference(b.index)),
        "only_b": len(b.index.difference(a.index)),
    }
    if len(pair):
        out["bootstrap"] = paired_bootstrap(pair["a"], pair["b"], resamples=BOOTSTRAP_RESAMPLES, seed=0)
        if metric == "acc":
            out["mcnemar"] = mcnemar(pair["a"].astype(bool), pair["b"].astype(bool))
    return out


# ------------------------------------------------------------------------------------------ filters


@dataclass
class Filters:
    task: str
    category: str
    kinds: list[str]
    sources: list[str]
    origins: list[str]
    show_ci: bool


def sidebar(board: lb.Board, config: AppConfig) -> Filters | None:
    """Task, category, model kind, source and origin filters."""
    st.sidebar.header("Filters")
    tasks = board.tasks()
    if not tasks:
        return None
    counts = {t: len(board.for_task(t)) for t in tasks}
    task = st.sidebar.selectbox("Task", tasks, format_func=lambda t: f"{t} ({counts[t]} results)", key="task")
    entries = board.for_task(task)
    categories = sorted({c for e in entries for c in e.results.get("per_category", {})})
    category = st.sidebar.selectbox("Category", [ALL, *categories], key=f"category:{task}")
    # kinds, sources and origins keep their choice from task to task, so all of them are always offered
    chosen_kinds = st.sidebar.multiselect(
        "Model kind", lb.KINDS, default=lb.KINDS, format_func=lambda k: lb.KIND_LABELS.get(k, k), key="kinds"
    )
    chosen_sources = st.sidebar.multiselect("Source", lb.SOURCES, default=lb.SOURCES, key="sources")
    origins = (lb.COMMITTED, lb.LOCAL)
    chosen_origins = st.sidebar.multiselect(
        "Where", origins, default=origins, format_func=lambda o: lb.ORIGIN_LABELS[o], key="origins"
    )
    show_ci = st.sidebar.checkbox("Show 95% confidence intervals", value=True, key="show_ci")
    st.sidebar.divider()
    st.sidebar.caption("Committed results: " + md_escape(config.results_dir or "(none)"))
    st.sidebar.caption("Local runs: " + md_escape(config.runs_dir or "(none)"))
    return Filters(task, category, chosen_kinds, chosen_sources, chosen_origins, show_ci)


def filtered(board: lb.Board, f: Filters) -> list[lb.RunEntry]:
    return [
        e
        for e in board.for_task(f.task)
        if e.kind in f.kinds and e.source in f.sources and e.origin in f.origins
    ]


def category_frame(entries: list[lb.RunEntry], frame: pd.DataFrame, category: str) -> pd.DataFrame:
    """``frame`` with its metric columns replaced by one category's values (no CIs per category)."""
    long = lb.breakdown_frame(entries, "category")
    long = long[long["value"] == category]
    out = frame[frame["key"].isin(set(long["key"]))].copy()  # rows without this category are left out
    for col in out.columns:
        if col.endswith(("_lo", "_hi")):
            out[col] = float("nan")
    metrics = [c for c in lb.metric_keys(entries) if c in out]
    for m in metrics:
        values = long[long["metric"] == m].set_index("key")["score"]
        out[m] = out["key"].map(values).astype(float)
    n = long.drop_duplicates("key").set_index("key")["n"]
    out["n"] = pd.to_numeric(out["key"].map(n), errors="coerce").astype("Int64")
    return out


# ------------------------------------------------------------------------------------------ views


def view_table(entries: list[lb.RunEntry], f: Filters) -> None:
    task = f.task
    frame = lb.results_frame(entries)
    if f.category != ALL:
        frame = category_frame(entries, frame, f.category)
        st.caption(
            f"Category **{md_escape(f.category)}**: per-category values (intervals are given for the whole task)."
        )
    metrics = [m for m in lb.metric_keys(entries) if frame[m].notna().any()]
    shown = st.multiselect(
        "Metrics",
        metrics,
        default=[m for m in metrics if m in TABLE_DEFAULT_METRICS] or metrics,
        format_func=lb.metric_label,
        key=f"table_metrics:{task}",
    )
    table = display_table(frame, shown, show_ci=f.show_ci)
    config: dict[str, Any] = {
        lb.metric_label(m): st.column_config.NumberColumn(lb.metric_label(m), format="%.3f", help=m)
        for m in shown
    }
    config["n"] = st.column_config.NumberColumn("n", format="%d", help="samples scored")
    config["Model"] = st.column_config.TextColumn("Model", pinned=True)
    for column in table.columns:
        if column.endswith(" 95% CI"):
            config[column] = st.column_config.TextColumn(column, width=115, help="95% bootstrap interval")
    height = min(38 + 35 * len(table), 740)  # every row visible up to about twenty
    st.dataframe(
        table, hide_index=True, column_config=config, placeholder="–", height=height, key="results_table"
    )
    st.caption(
        "**reproduced**: computed by spotfake on this task · **reported**: copied from a publication "
        "(its own protocol and data; no per-sample records) · **submitted**: accepted after the leaderboard "
        "re-scored its answers. **committed**: results/ · **local run**: runs/ on this machine. "
        "Click a column header to sort."
    )
    chart_metrics = [m for m in metrics if m != "unparsed_rate"]
    if chart_metrics:
        metric = st.selectbox(
            "Chart metric", chart_metrics, format_func=lb.metric_label, key=f"chart_metric:{task}"
        )
        st.altair_chart(bar_chart(frame, metric), width="stretch")


def view_heatmap(entries: list[lb.RunEntry], task: str) -> None:
    fields = lb.breakdown_fields(entries)
    if not fields:
        st.info("No per-category values for these results.")
        return
    by = st.selectbox("Break down by", fields, key=f"breakdown_by:{task}")
    long = lb.breakdown_frame(entries, by)
    metrics = [
        m
        for m in lb.metric_keys(entries)
        if m in set(long["metric"]) and long[long["metric"] == m]["score"].notna().any()
    ]
    if long.empty or not metrics:
        st.info(f"No values by {md_escape(by)} for these results.")
        return
    metric = st.selectbox(
        "Heat map metric", metrics, format_func=lb.metric_label, key=f"heatmap_metric:{task}"
    )
    st.altair_chart(heatmap(long, metric, by), width="stretch")


def _with_samples(entries: list[lb.RunEntry]) -> list[lb.RunEntry]:
    return [e for e in entries if e.has_samples]


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def view_explanations(entries: list[lb.RunEntry], f: Filters, config: AppConfig) -> None:
    task = f.task
    runs = _with_samples(entries)
    if not runs:
        st.info("No run with per-sample records for this task (reported rows have none).")
        return
    labels = {e.key: e.label for e in runs}
    chosen = st.multiselect(
        "Models",
        list(labels),
        default=list(labels)[:3],
        format_func=labels.__getitem__,
        key=f"explain_models:{task}",
        max_selections=4,
    )
    if not chosen:
        return
    by_key = {e.key: e for e in runs}
    frames = {}
    for key in chosen:
        try:
            frames[key] = samples_of(by_key[key])
        except SpotfakeError as exc:
            st.error(md_escape(exc))
            return
    ids = list(frames[chosen[0]].index)
    first = frames[chosen[0]]
    if f.category != ALL:
        ids = [i for i in ids if first.at[i, "category"] == f.category]
    only = st.radio(
        "Show",
        ["all samples", "where the models disagree", "where any model is wrong"],
        horizontal=True,
        key=f"explain_show:{task}",
    )
    if only != "all samples":
        keep = []
        for i in ids:
            verdicts = [fr.at[i, "verdict"] if i in fr.index else None for fr in frames.values()]
            wrong = [fr.at[i, "correct"] is not True if i in fr.index else True for fr in frames.values()]
            if (only.startswith("where the") and len(set(verdicts)) > 1) or (
                only.startswith("where any") and any(wrong)
            ):
                keep.append(i)
        ids = keep
    if not ids:
        st.info("No sample matches.")
        return
    sample_id = st.selectbox(f"Sample ({len(ids)})", ids, key=f"explain_sample:{task}")
    samples, problem = _task(
        f.task, None if config.data_root(f.task) is None else str(config.data_root(f.task))
    )
    sample = samples.get(sample_id) if samples else None
    row = first.loc[sample_id]
    st.text(f"id: {sample_id}    label: {row['label']}    category: {row['category'] or '-'}")
    left, right = st.columns([1, 2])
    with left:
        shown = False
        if sample is not None:
            for path in sample.images:
                if Path(path).is_file():
                    st.image(str(path), width=320)
                    shown = True
        if not shown:
            st.caption("No image at hand" + (" (the task's data was not found)." if sample is None else "."))
    with right:
        if sample is not None:
            st.caption("Prompt")
            st.text(sample.prompt)
            for n, ref in enumerate(sample.references, start=1):
                st.caption("Reference" + (f" {n}" if len(sample.references) > 1 else ""))
                st.text(ref)
            if not sample.references:
                st.caption("This sample has no reference explanation.")
        else:
            st.caption("Prompt and reference need the task's data: " + md_escape(problem or "not loaded"))
    columns = st.columns(len(chosen))
    for column, key in zip(columns, chosen, strict=True):
        frame = frames[key]
        with column, st.container(border=True):
            st.markdown("**" + md_escape(labels[key]) + "**")
            if sample_id not in frame.index:
                st.caption("no record of this sample")
                continue
            rec = frame.loc[sample_id]
            mark = {True: "correct", False: "wrong"}.get(rec["correct"], "no verdict")
            st.text(
                f"verdict: {rec['verdict'] or '-'} ({mark})\nROUGE-L: {_fmt(rec['rouge_l'])}   CSS: {_fmt(rec['css'])}"
            )
            if rec["error"]:
                st.text("error: " + str(rec["error"]))
            st.text(rec["response"] if rec["response"] is not None else "(no response)")


def view_compare(entries: list[lb.RunEntry], task: str) -> None:
    runs = _with_samples(entries)
    if len(runs) < 2:
        st.info("Two runs with per-sample records on this task are needed for a paired comparison.")
        return
    labels = {e.key: e.label for e in runs}
    keys = list(labels)
    col_a, col_b, col_m = st.columns(3)
    key_a = col_a.selectbox("Model A", keys, index=0, format_func=labels.__getitem__, key=f"cmp_a:{task}")
    key_b = col_b.selectbox("Model B", keys, index=1, format_func=labels.__getitem__, key=f"cmp_b:{task}")
    available = [
        m for m in lb.PER_SAMPLE_METRICS if any(e.results["metrics"].get(m) is not None for e in runs)
    ]
    metric = col_m.selectbox("Metric", available, format_func=lb.metric_label, key=f"cmp_metric:{task}")
    if key_a == key_b:
        st.info("Choose two different runs.")
        return
    by_key = {e.key: e for e in runs}
    try:
        result = _comparison(
            key_a, _mtime(by_key[key_a].samples_path), key_b, _mtime(by_key[key_b].samples_path), metric
        )
    except SpotfakeError as exc:
        st.error(md_escape(exc))
        return
    if result["n"] == 0:
        st.info("These runs have no sample in common with a value for this metric.")
        return
    boot = result["bootstrap"]
    name_a, name_b = md_escape(labels[key_a]), md_escape(labels[key_b])
    c1, c2, c3 = st.columns(3)
    c1.metric(f"A: {lb.metric_label(metric)}", f"{boot.mean_a:.3f}")
    c2.metric(f"B: {lb.metric_label(metric)}", f"{boot.mean_b:.3f}")
    c3.metric("A − B", f"{boot.diff:+.3f}", help=f"95% CI {format_ci(boot.ci_low, boot.ci_high)}")
    st.text(
        f"Paired bootstrap over the {boot.n} samples both runs have ({boot.resamples:,} resamples, seed 0): "
        f"A - B = {boot.diff:+.4f}, 95% CI {format_ci(boot.ci_low, boot.ci_high)}, p = {boot.p_value:.4g}"
    )
    if "mcnemar" in result:
        mc = result["mcnemar"]
        st.text(
            f"McNemar (exact): A right and B wrong on {mc.only_a_right}, B right and A wrong on {mc.only_b_right}; "
            f"p = {mc.p_value:.4g}"
        )
        st.dataframe(
            pd.DataFrame(
                {"B right": [mc.both_right, mc.only_b_right], "B wrong": [mc.only_a_right, mc.both_wrong]},
                index=["A right", "A wrong"],
            ),
            key="cmp_table",
        )
    test, p = ("McNemar", result["mcnemar"].p_value) if "mcnemar" in result else ("bootstrap", boot.p_value)
    if p < 0.05 and boot.diff != 0:
        better, worse = (name_a, name_b) if boot.diff > 0 else (name_b, name_a)
        st.success(
            f"{better} is better than {worse} on {lb.metric_label(metric)} at the 5% level ({test} p = {p:.3g})."
        )
    else:
        st.info(f"No significant difference at the 5% level ({test} p = {p:.3g}).")
    if result["only_a"] or result["only_b"]:
        st.caption(f"Left out: {result['only_a']} samples only A has, {result['only_b']} only B has.")


def view_submit(config: AppConfig) -> None:
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


# ------------------------------------------------------------------------------------------ page


def main(config: AppConfig) -> None:
    """Render the whole page."""
    st.set_page_config(page_title="spotfake leaderboard", layout="wide")
    st.title("spotfake leaderboard")
    st.caption("Synthetic-image and deepfake detection, with explanations: accuracy, F1, ROUGE-L and CSS.")
    board = lb.load_board(config.results_dir, config.runs_dir)
    if board.problems:
        with st.expander(f"{len(board.problems)} result file(s) could not be read", expanded=False):
            for problem in board.problems:
                st.text(problem)
    f = sidebar(board, config)
    tabs = st.tabs(["Leaderboard", "Per category", "Explanations", "Compare two models", "Submit"])
    if f is None:
        with tabs[0]:
            st.info(
                "No results yet. Run `make demo` (or `spotfake run ...`) to create local runs in runs/, "
                "or point --results-dir / --runs-dir at folders of results."
            )
        with tabs[4]:
            view_submit(config)
        return
    entries = filtered(board, f)
    with tabs[0]:
        st.subheader(f"Task: {md_escape(f.task)}")
        if entries:
            view_table(entries, f)
        else:
            st.info("No result matches the filters.")
    with tabs[1]:
        if entries:
            view_heatmap(entries, f.task)
        else:
            st.info("No result matches the filters.")
    with tabs[2]:
        view_explanations(entries, f, config)
    with tabs[3]:
        view_compare(entries, f.task)
    with tabs[4]:
        view_submit(config)


if __name__ == "__main__":
    main(parse_args(sys.argv[1:]))
