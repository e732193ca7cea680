"""The human arena tab: one image, two anonymous explanations, a vote, then the names and the ratings.

Votes go to the arena database (``ctx.config.arena_db``: a SQLite file by default, any SQLAlchemy URL);
a voter is this browser's key, followed by the name the voter typed, if any; the rate limit and the
one-vote rule count the key alone (:mod:`leaderboard.arena.voters`). Contestants are runs
(:func:`leaderboard.arena.catalog.contestant_id`), never display names. Ratings are Bradley-Terry with bootstrap
intervals (:mod:`leaderboard.arena.ratings`), shown beside the automatic metrics of the same models with
the rank agreement (Kendall tau) between the human ratings and each metric; a rating is shown only once
its model has ``ctx.config.arena_min_votes`` votes, always with its interval. Explanations are untrusted
text: shown with ``st.text``, never as HTML or markdown. Nothing shown before the vote names the sample:
its label is an opaque hash (:func:`leaderboard.arena.explaining.opaque_id`) and its image is re-encoded
from pixels (no file name, no metadata).
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from spotfake.harness.errors import SpotfakeError
from spotfake.leaderboard.arena.catalog import contestant_id, load_catalog
from spotfake.leaderboard.arena.explaining import opaque_id
from spotfake.leaderboard.arena.pairing import Matchup, next_matchup
from spotfake.leaderboard.arena.ratings import Rating, bradley_terry, rank_agreement, rated
from spotfake.leaderboard.arena.store import ArenaStore
from spotfake.leaderboard.arena.voters import session_key, voter_of
from spotfake.leaderboard.arena.votes import Catalog, Vote
from spotfake.leaderboard.tabs.context import BoardContext
from spotfake.leaderboard.views import md_escape

BUTTONS = (("A is better", "a"), ("B is better", "b"), ("Tie", "tie"), ("Both bad", "both_bad"))
SHOWN_METRICS = ("acc", "f1", "rouge_l", "css", "rouge_l_gated", "css_gated", "judge", "judge_gated")
BOOTSTRAP = 200


@st.cache_resource(show_spinner=False)
def _store(url: str | None) -> ArenaStore:
    return ArenaStore(url)


@st.cache_resource(ttl=60, show_spinner=False)
def _catalog(results_dir: str | None, runs_dir: str | None) -> Catalog:
    return load_catalog([Path(p) if p else None for p in (results_dir, runs_dir)])


@st.cache_resource(ttl=60, show_spinner=False)
def _migrated(url: str, results_dir: str | None, runs_dir: str | None) -> tuple[list[str], list[str]]:
    """Votes of earlier versions (models named by display name) moved to their runs, once a minute."""
    return _store(url).migrate(_catalog(results_dir, runs_dir))


@st.cache_resource(show_spinner=False)
def _salt() -> bytes:
    """This server's secret for the opaque sample labels (new at every start; never sent anywhere)."""
    return secrets.token_bytes(32)


def _voter() -> str:
    """This browser's key (:func:`leaderboard.arena.voters.session_key`) and the typed name, if any."""
    key = session_key(st.context.cookies, st.session_state)
    return voter_of(key, str(st.session_state.get("arena_name") or ""))


@st.cache_data(max_entries=32, show_spinner=False)
def _fit(url: str, task: str, n_votes: int, last_vote: str, _votes: list[Vote]) -> list[Rating]:
    """The bootstrap fit, redone only when a vote was added: votes are only ever appended, so the count
    and the last vote name the set (``_votes`` itself is not hashed)."""
    return bradley_terry(_votes, n_bootstrap=BOOTSTRAP, seed=0)


def _ratings(
    store: ArenaStore, url: str, task: str, contestants: set[str]
) -> tuple[list[Vote], list[Rating]]:
    """The votes between this task's contestants (runs that explain) and their ratings."""
    stored = store.votes(task)
    votes = [v for v in stored if v.model_a in contestants and v.model_b in contestants]
    last = repr(votes[-1]) if votes else ""
    return votes, _fit(url, task, len(votes), f"{len(stored)}:{last}", votes)


def _vote(store: ArenaStore, catalog: Catalog, task: str, matchup: Matchup, winner: str) -> None:
    """Button callback: store the vote, then reveal the names (or show why it was refused)."""
    vote = Vote(
        task,
        matchup.sample_id,
        matchup.model_a,
        matchup.model_b,
        winner,
        _voter(),
        datetime.now(timezone.utc),
    )
    try:
        store.add_vote(vote, catalog)
    except SpotfakeError as exc:
        st.session_state["arena_error"] = str(exc)
        return
    st.session_state["arena_error"] = None
    st.session_state[f"arena_revealed:{task}"] = (matchup, winner)
    st.session_state.pop(f"arena_matchup:{task}", None)


def _next(task: str) -> None:
    st.session_state.pop(f"arena_revealed:{task}", None)
    st.session_state.pop(f"arena_matchup:{task}", None)


def _show_matchup(ctx: BoardContext, task: str, matchup: Matchup) -> None:
    samples, _why = ctx.task_samples(task)
    sample = samples.get(matchup.sample_id) if samples else None
    left, right = st.columns([1, 2])
    with left:
        st.text(f"Sample {opaque_id(task, matchup.sample_id, _salt())}")
        image = _pixels(sample)
        if image is not None:
            st.image(image, width=min(IMAGE_PX, image.width), output_format="PNG")
        else:
            st.caption("Image not at hand on this server; judge the explanations by their text.")
    with right:
        col_a, col_b = st.columns(2)
        for col, label, text in (
            (col_a, "Explanation A", matchup.text_a),
            (col_b, "Explanation B", matchup.text_b),
        ):
            col.markdown(f"**{label}**")
            col.text(text)


IMAGE_PX = 320


def _pixels(sample: Any) -> Any:
    """The sample's first image as pixels (a PIL image: no file name, no metadata), enlarged by a whole
    factor with nearest-neighbour sampling towards :data:`IMAGE_PX` (nothing smoothed away), or None."""
    if sample is None or not sample.images:
        return None
    from PIL import Image

    from spotfake.harness.images import load_image

    try:
        image = load_image(Path(sample.images[0]), sample_id=sample.id).convert("RGB")
    except Exception:  # a missing or hostile image: the text is still there to judge
        return None
    zoom = max(1, IMAGE_PX // max(image.size))
    return image.resize((image.width * zoom, image.height * zoom), Image.Resampling.NEAREST)


def _ratings_view(ctx: BoardContext, task: str, votes: list[Vote], all_ratings: list[Rating]) -> None:
    st.subheader("Human ratings")
    if not all_ratings:
        st.info("No votes on this task yet.")
        return
    minimum = ctx.config.arena_min_votes
    ratings, waiting = rated(all_ratings, minimum)
    st.caption(
        f"{len(votes)} votes; Bradley-Terry, ties and 'both bad' as half wins, mean 1000, 95% bootstrap "
        f"interval. A rating is shown once its model has {minimum} votes."
    )
    if waiting:
        st.caption(
            "Not rated yet (votes so far): "
            + "; ".join(f"{md_escape(r.model)} ({r.votes} of {minimum})" for r in waiting)
        )
    if not ratings:
        st.info(f"No model has {minimum} votes yet: ratings appear once a model has {minimum}.")
        return
    metrics: dict[str, dict[str, Any]] = {}
    for entry in ctx.entries:
        if entry.source != "reported" and entry.identity.is_plain:
            contestant = contestant_id(entry.results)
            for name in SHOWN_METRICS:
                value = entry.results["metrics"].get(name)
                if value is not None:
                    metrics.setdefault(name, {})[contestant] = value
    rows = []
    for r in ratings:
        row: dict[str, Any] = {"Model": r.model, "Rating": round(r.rating, 1)}
        row["CI low"], row["CI high"] = (round(r.ci[0], 1), round(r.ci[1], 1)) if r.ci else (None, None)
        row["Votes"] = r.votes
        for name, values in metrics.items():
            row[_label(name)] = values.get(r.model)
        rows.append(row)
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, key=f"arena_table:{task}")
    import altair as alt

    base = alt.Chart(frame).encode(
        y=alt.Y(
            "Model:N", sort=alt.EncodingSortField("Rating", order="descending"), axis=alt.Axis(labelLimit=320)
        )
    )
    chart = base.mark_rule().encode(
        x=alt.X("CI low:Q", scale=alt.Scale(zero=False), title="rating"), x2="CI high:Q"
    )
    st.altair_chart(
        chart + base.mark_point(filled=True, size=80).encode(x="Rating:Q"), use_container_width=True
    )
    agreement = rank_agreement(ratings, metrics)
    if agreement:
        st.caption("Rank agreement with the automatic metrics (Kendall tau over the models having both; "
                   "positive = same order; none below 3 models).")  # fmt: skip
        st.dataframe(
            pd.DataFrame([{"Metric": _label(k), "Kendall tau": v} for k, v in agreement.items()]),
            hide_index=True,
            key=f"arena_tau:{task}",
        )


def _label(name: str) -> str:
    from spotfake.harness.metrics.registry import METRICS, metric_label

    return metric_label(name) if name in METRICS else name


def render(ctx: BoardContext) -> None:
    """The arena for the task on screen."""
    task = ctx.task
    if task is None:
        st.info("No results yet: the arena compares explanations of runs on a task.")
        return
    url = ctx.config.database()
    if url is None:
        st.info("The arena needs a votes database: start the board with --arena-db or a runs folder.")
        return
    try:
        store = _store(url)
    except SpotfakeError as exc:
        st.error(str(exc))
        return
    roots = (str(ctx.results_dir) if ctx.results_dir else None, str(ctx.runs_dir) if ctx.runs_dir else None)
    catalog = _catalog(*roots)
    try:
        _migrated(url, *roots)
    except SpotfakeError as exc:
        st.error(str(exc))
        return
    task_catalog = catalog.tasks.get(task)
    st.text_input("Your name (optional; otherwise an anonymous session id)", key="arena_name", max_chars=150)
    votes, ratings = _ratings(store, url, task, set(task_catalog.explained) if task_catalog else set())
    if task_catalog is None:
        st.info(
            "The arena needs at least two runs on this task that explain: language models whose answers "
            "say more than their verdict (fixed sentences such as 'This is a fake image.' are left out)."
        )
    else:
        revealed = st.session_state.get(f"arena_revealed:{task}")
        if revealed is not None:
            matchup, winner = revealed
            _show_matchup(ctx, task, matchup)
            said = dict((w, b) for b, w in BUTTONS)[winner]
            st.success(f"Your vote: {said}. A was {matchup.model_a}, B was {matchup.model_b}.")
            st.button("Next pair", on_click=_next, args=(task,), key=f"arena_next:{task}")
        else:
            key = f"arena_matchup:{task}"
            if key not in st.session_state:
                st.session_state[key] = next_matchup(
                    task_catalog,
                    pair_counts=store.pair_counts(task),
                    voted=store.voted_keys(_voter(), task),
                    rng=random.Random(),
                )
            matchup = st.session_state[key]
            if matchup is None:
                st.info("You have voted on every pair of this task. Thank you!")
            else:
                _show_matchup(ctx, task, matchup)
                for col, (label, winner) in zip(st.columns(len(BUTTONS)), BUTTONS, strict=True):
                    col.button(label, on_click=_vote, args=(store, catalog, task, matchup, winner),
                               key=f"arena_vote_{winner}:{task}", use_container_width=True)  # fmt: skip
        if st.session_state.get("arena_error"):
            st.error(st.session_state["arena_error"])
    _ratings_view(ctx, task, votes, ratings)
