"""Reading a published F1's positive class from its arithmetic (leaderboard/f1_convention.py) against
brute force over confusion matrices, the readings of the published rows, and the board keeping each
reading in its own column."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from spotfake.leaderboard.data import results_frame, row_metrics
from spotfake.leaderboard.f1_convention import (
    board_f1,
    consistent_f1_classes,
    f1_by_convention,
    positive_class,
    read_f1,
)
from spotfake.leaderboard.scan import load_board


@functools.cache
def every_matrix(n_real: int, n_fake: int) -> list[tuple[float, dict[str, float]]]:
    """(accuracy, F1 by convention) of every (reals right, fakes right), scored by scikit-learn."""
    y = np.array([1] * n_real + [0] * n_fake)  # 1 = real
    out = []
    for right_real, right_fake in itertools.product(range(n_real + 1), range(n_fake + 1)):
        pred = np.array(
            [1] * right_real + [0] * (n_real - right_real) + [0] * right_fake + [1] * (n_fake - right_fake)
        )
        values = {
            "real": f1_score(y, pred, pos_label=1, zero_division=0),
            "fake": f1_score(y, pred, pos_label=0, zero_division=0),
            "macro": f1_score(y, pred, average="macro", zero_division=0),
            "weighted": f1_score(y, pred, average="weighted", zero_division=0),
        }
        out.append(((right_real + right_fake) / (n_real + n_fake), values))
    return out


def brute_force(acc: float, f1: float, n_real: int, n_fake: int) -> set[str]:
    """The conventions under which some confusion matrix prints as ``acc`` and ``f1``."""
    fits: set[str] = set()
    for accuracy, values in every_matrix(n_real, n_fake):
        if round(accuracy, 3) == acc:
            fits |= {k for k, v in values.items() if round(v, 3) == f1}
    return fits


@pytest.mark.parametrize("seed", range(6))
def test_consistent_classes_equal_brute_force_with_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_real, n_fake = int(rng.integers(3, 14)), int(rng.integers(3, 14))
    for _ in range(25):
        right_real, right_fake = int(rng.integers(0, n_real + 1)), int(rng.integers(0, n_fake + 1))
        acc = round((right_real + right_fake) / (n_real + n_fake), 3)
        pred = [1] * right_real + [0] * (n_real - right_real) + [0] * right_fake + [1] * (n_fake - right_fake)
        y = [1] * n_real + [0] * n_fake
        for average, pos in (("binary", 1), ("binary", 0), ("macro", 1), ("weighted", 1)):
            f1 = round(float(f1_score(y, pred, average=average, pos_label=pos, zero_division=0)), 3)
            got = set(consistent_f1_classes(acc, f1, n_real, n_fake))
            assert got == brute_force(acc, f1, n_real, n_fake), (n_real, n_fake, acc, f1)


def test_published_rows_that_fit_one_reading() -> None:
    assert consistent_f1_classes(0.986, 0.981, 1808, 3192) == ("real",)  # FakeVLM on FakeClue
    assert consistent_f1_classes(0.457, 0.592, 1808, 3192) == ("fake",)  # Qwen2-VL-7B on FakeClue
    assert consistent_f1_classes(0.837, 0.876, 480, 843) == ("fake",)  # Common-DF-T on DD-VQA
    assert consistent_f1_classes(0.932, 0.931, 480, 843) == ("weighted",)  # FakeVLM on DD-VQA
    assert "real" not in consistent_f1_classes(0.406, 0.433, 2054, 7946, averaged=False)  # CNNSpot


def test_the_262_ddvqa_images_cannot_give_the_published_accuracies_but_the_questions_can() -> None:
    for acc in (0.525, 0.457, 0.532, 0.837, 0.849, 0.875, 0.932):
        assert f1_by_convention(acc, 84, 178)["real"].size == 0, acc
        assert f1_by_convention(acc, 480, 843)["real"].size > 0, acc


def test_positive_class_prefers_real_then_fake_then_a_single_average() -> None:
    assert positive_class(("real", "fake", "macro")) == "real"
    assert positive_class(("fake", "weighted")) == "fake"
    assert positive_class(("weighted",)) == "weighted"
    assert positive_class(("macro", "weighted")) == "unknown"
    assert positive_class(()) == "unknown"


def test_read_f1_names_the_counts_and_is_unknown_without_them() -> None:
    found, note = read_f1("fakeclue", 0.457, 0.592)
    assert found == "fake" and "1808 real / 3192 fake" in note and "fits: fake" in note
    assert read_f1("demo", 0.5, 0.5)[0] == "unknown"
    assert read_f1("fakeclue", None, 0.5) == ("unknown", read_f1("fakeclue", None, 0.5)[1])
    found, note = read_f1("ddvqa", 0.532, 0.317)
    assert found == "unknown" and "none of" in note


def test_board_f1_puts_each_reading_in_its_own_column() -> None:
    metrics = {"acc": 0.4, "f1": 0.43}
    assert board_f1(metrics, {"f1_positive_class": "real"}) == (metrics, "")
    assert board_f1(metrics, {})[0] == metrics  # no reading recorded: left as filed
    assert board_f1(metrics, {"f1_positive_class": "fake"}) == ({"acc": 0.4, "f1_fake": 0.43}, "")
    assert board_f1({"acc": 0.4, "f1_fake": 0.43}, {"f1_positive_class": "fake"})[0] == {
        "acc": 0.4,
        "f1_fake": 0.43,
    }
    moved, note = board_f1(metrics, {"f1_positive_class": "weighted", "f1_check": "fits: weighted"})
    assert moved == {"acc": 0.4} and "0.430" in note and "not ranked (weighted)" in note
    kept, note = board_f1({"acc": 0.5}, {"f1_positive_class": "unknown", "published_f1": 0.317})
    assert kept == {"acc": 0.5} and "0.317" in note and "unknown" in note


def _reported(folder: Path, model: str, metrics: dict[str, float], reading: dict[str, object]) -> None:
    path = folder / "results" / "reported" / "paper" / model / "fakeclue" / "results.json"
    path.parent.mkdir(parents=True)
    doc = {
        "schema_version": 1,
        "spotfake_version": "0",
        "source": "reported",
        "model": {"name": model, "kind": "lmm"},
        "task": {"name": "fakeclue", "version": "published"},
        "metrics": metrics,
        "ci": {},
        "per_category": {},
        "breakdowns": {},
        "reported": {"citation": "Paper", "table": "1", "dataset": "fakeclue", "notes": "", **reading},
        "created": "2026-01-01T00:00:00+00:00",
    }
    path.write_text(json.dumps(doc))


def test_the_board_frame_never_ranks_a_fake_positive_or_unknown_f1_as_real_positive(tmp_path: Path) -> None:
    _reported(tmp_path, "a", {"acc": 0.9, "f1": 0.91}, {"f1_positive_class": "real"})
    _reported(tmp_path, "b", {"acc": 0.5, "f1": 0.6}, {"f1_positive_class": "fake"})  # filed before readings
    _reported(tmp_path, "c", {"acc": 0.5}, {"f1_positive_class": "unknown", "published_f1": 0.3})
    board = load_board(tmp_path / "results", None)
    assert board.problems == []
    entries = board.entries
    frame = results_frame(entries).set_index("name")
    assert frame.loc["a", "f1"] == 0.91 and np.isnan(frame.loc["a", "f1_fake"])
    assert np.isnan(frame.loc["b", "f1"]) and frame.loc["b", "f1_fake"] == 0.6
    assert np.isnan(frame.loc["c", "f1"]) and "0.300 not ranked (unknown)" in frame.loc["c", "f1_note"]
    assert {e.name: row_metrics(e)[0] for e in entries}["b"] == {"acc": 0.5, "f1_fake": 0.6}
