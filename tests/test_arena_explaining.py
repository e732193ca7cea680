"""What the arena may show: only runs that explain, never two identical texts, never a label-bearing
sample id, and no rating below the minimum number of votes."""

from __future__ import annotations

import json
import random
import shutil
from datetime import datetime, timezone
from pathlib import Path

from arena_runs import COMMITTED, explaining_results

from spotfake.leaderboard.arena.catalog import load_catalog
from spotfake.leaderboard.arena.explaining import (
    different,
    explanations,
    opaque_id,
    says_more_than_its_verdict,
    sentences,
)
from spotfake.leaderboard.arena.pairing import next_matchup
from spotfake.leaderboard.arena.ratings import bradley_terry, rated
from spotfake.leaderboard.arena.votes import TaskCatalog, Vote

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
VARIED = {
    "s1": ("fake", "This is a fake image. The fur melts into the grass."),
    "s2": ("fake", "This is a fake image. The window frames bend."),
    "s3": ("real", "This is a real image. Sensor noise is even across the sky."),
}


def test_fixed_sentences_are_no_explanations() -> None:
    one_per_verdict = {"s1": ("fake", "This is a fake image."), "s2": ("fake", "This is a fake image."),
                       "s3": ("real", "This is a REAL  image.")}  # fmt: skip
    assert not says_more_than_its_verdict(one_per_verdict)
    assert explanations("lmm", one_per_verdict) == {}
    two_sentences_per_verdict = {k: (v, f"This is a {v} image. It is {v}.") for k, (v, _) in VARIED.items()}
    assert explanations("lmm", two_sentences_per_verdict) == {}
    assert explanations("lmm", VARIED) == VARIED
    for kind in ("expert", "baseline", ""):
        assert explanations(kind, VARIED) == {}  # a classifier's text is a template, whatever it says


def test_a_single_sentence_repeated_on_other_samples_is_left_out() -> None:
    answers = {
        **VARIED,
        "s4": ("fake", "The image shows AI artifacts."),
        "s5": ("real", "the image shows AI  artifacts."),
    }
    kept = explanations("lmm", answers)
    assert set(kept) == {"s1", "s2", "s3"}
    assert sentences("The image shows AI artifacts.") == 1 and sentences("One. Two!  Three?") == 3
    assert sentences("No full stop") == 1


def test_identical_texts_are_never_paired() -> None:
    same = "This is a fake image. The edges are too smooth."
    task = TaskCatalog(
        samples={"s1", "s2", "s3"},
        explained={
            "x": {"s1": ("fake", same), "s2": ("fake", "x says two. Really."), "s3": ("real", "x three. Yes.")},
            "y": {"s1": ("fake", same.upper()), "s2": ("fake", "y says two. Really."), "s3": ("real", "X THREE.  yes.")},
        },
    )  # fmt: skip
    assert not different(same, same.upper()) and different(same, "other")
    seen = set()
    for seed in range(40):
        m = next_matchup(task, pair_counts={}, voted=set(), rng=random.Random(seed))
        assert m is not None and different(m.text_a, m.text_b)
        seen.add(m.sample_id)
    assert seen == {"s2"}
    assert next_matchup(task, pair_counts={}, voted={("s2", "x", "y")}, rng=random.Random(0)) is None


def test_the_opaque_id_carries_no_part_of_the_sample_id() -> None:
    sid = "gravel/real/0009.png"
    first, again = opaque_id("demo", sid, b"k" * 32), opaque_id("demo", sid, b"k" * 32)
    assert first == again and first.startswith("#") and len(first) == 11
    assert opaque_id("demo", sid, b"j" * 32) != first  # another server's secret: another label
    assert opaque_id("demo", "gravel/fake/0009.png", b"k" * 32) != first
    for part in ("gravel", "real", "0009", "png"):
        assert part not in first


def test_the_catalog_holds_only_runs_that_explain(tmp_path: Path) -> None:
    committed = tmp_path / "committed"
    for model in ("fakevlm-demo", "always-fake", "random", "npr-demo"):
        shutil.copytree(COMMITTED / model / "demo", committed / "reproduced" / model / "demo")
    assert "demo" not in load_catalog([committed]).tasks  # one explaining run: nothing to pair
    root = explaining_results(tmp_path / "results")
    fixed = root / "reproduced" / "parrot" / "demo"
    shutil.copytree(COMMITTED / "always-fake" / "demo", fixed)
    results = json.loads((fixed / "results.json").read_text())
    results["model"].update(name="parrot", kind="lmm")  # a language model that always says one sentence
    (fixed / "results.json").write_text(json.dumps(results))
    task = load_catalog([root]).tasks["demo"]
    shown = {task.display[c] for c in task.explained}
    assert shown == {"fakevlm-demo", "always-fake", "random"} and "parrot" in task.display.values()


def test_no_rating_is_shown_below_the_minimum_number_of_votes() -> None:
    votes = [Vote("t", f"s{k}", "x", "y", "ab"[k % 2], f"v{k}", T0) for k in range(30)]
    votes += [Vote("t", "s0", "x", "z", "a", "w", T0)]
    ratings = bradley_terry(votes, n_bootstrap=20, seed=0)
    shown, waiting = rated(ratings, 30)
    assert {r.model for r in shown} == {"x", "y"} and all(r.ci is not None for r in shown)
    assert [(r.model, r.votes) for r in waiting] == [("z", 1)]
    assert rated(ratings, 32) == ([], ratings)
    without_intervals = bradley_terry(votes, n_bootstrap=0)
    assert rated(without_intervals, 1)[0] == []  # a rating is never shown without its interval
