"""Hostile names through `spotfake report`: control characters, `$`, formula starts, very long names,
surrogates, Markdown and LaTeX specials as model, task, argument, perturbation and generator names.

Every report is exit 0 with output that parses (Markdown rows keep their column count, the LaTeX passes the
syntax check of test_report_tables.py, no CSV cell starts a formula, every figure file is written), or a
file the reader refuses: exit 2 and one line. Never a traceback.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TOY_TASK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from test_report_cli import PNG_MAGIC, Grain
from test_report_tables import check_latex

from spotfake.harness import cli
from spotfake.harness.report.tables import FORMULA_STARTS, build_tables, to_csv, to_latex, to_markdown
from spotfake.harness.robustness import plan, sweep
from spotfake.harness.runner import RunOptions
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task

HOSTILE = [
    "\x00", "\x1b[2J", "\x1b]0;title\x07", "\r", "\n", "\r\n", "\t", "\x0b", "\x0c", "\x85", "\x7f",
    "\u2028", "\u202e", "\u2066", "\ufeff", "\ufffd", "$", "$$", "$\\frac{a$", "\\", "\\\\", "{", "}}", "&",
    "%", "#", "_", "~", "^", "|", "*", "`", "<script>", "[x](y)", "[", "]", "&#8238;", "=", "+", "-", "@",
    "\uff1d", '=HYPERLINK("x")', "\\end{tabular}", "\\input{x}", "†", " ", "-1", "a" * 60, "模型",
]  # fmt: skip
NAMES = (
    st.lists(st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=4), min_size=1, max_size=10)
    .map("".join)
    .map(lambda name: name[:200])
)
"""Model and task names a results.json may hold (the schema allows 1-200 characters)."""
OTHER = NAMES | st.text(min_size=300, max_size=600)
"""Argument, generator and perturbation names, which have no length limit."""
REFUSED = st.just("") | st.text(min_size=201, max_size=260) | st.just("m\ud800x")
"""Model and task names the reader refuses: empty, over 200 characters, a lone surrogate."""

TEXT_COLUMNS = ("task", "model", "source", "perturbation")
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three run folders with records: clean, blur:0.5 and social."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "imgs").mkdir()
    rng = np.random.default_rng(5)
    for i in range(9):
        arr = np.clip(128 + rng.normal(0, 40 if i % 3 == 0 else 12, (16, 16, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(root / "imgs" / f"img_{i}.png")
    task = load_task(str(TOY_TASK), data_root=root / "imgs", task_args={"n": 9})
    options = RunOptions(
        output_dir=root / "runs", progress=False, workers=1, scoring=ScoringOptions(n_bootstrap=20)
    )
    sweep(Grain("grain"), {}, task, plan(["blur:0.5", "social"]), options)
    return root / "runs"


def hostile_copy(runs: Path, into: Path, names: dict[str, Any]) -> Path:
    """The run folders copied into ``into`` with every name in their results.json replaced."""
    folder = into / "runs"
    shutil.copytree(runs, folder)
    for path in folder.rglob("results.json"):
        results = json.loads(path.read_text(encoding="utf-8"))
        results["model"]["name"] = names["model"]
        results["model"]["args"] = {names["arg"]: names["value"]}
        results["task"]["name"] = names["task"]
        generators = results["breakdowns"]["generator"]
        generators[names["generator"]] = generators.pop(next(iter(generators)))
        if "perturbation" in results and results["perturbation"]["spec"] != "social":
            results["perturbation"]["spec"] = names["spec"]
            results["perturbation"]["steps"][0]["name"] = names["step"]
        path.write_text(json.dumps(results), encoding="utf-8")
    return folder


def report(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["report", *argv])
    return code, out.getvalue(), err.getvalue()


def invisible(text: str) -> list[str]:
    """Characters a reader of the output would not see, or that would move a terminal's cursor."""
    return [c for c in text if c != "\n" and (unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS)]


def check_markdown(text: str) -> None:
    assert not invisible(text)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows and {len(re.findall(r"(?<!\\)\|", line)) for line in rows} == {3}  # model, acc, edges


def check_csv(text: str, n_rows: int) -> None:
    assert not invisible(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == n_rows and len(text.strip().split("\n")) == n_rows + 1
    for row in rows:
        for column in TEXT_COLUMNS:
            assert row[column].lstrip()[:1] not in FORMULA_STARTS, (column, row[column])


def names_strategy(names: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {"model": names, "task": names, **{k: OTHER for k in ("arg", "value", "generator", "spec", "step")}}
    )


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names=names_strategy(NAMES | REFUSED))
def test_fuzz_hostile_names_in_every_table_format(runs: Path, names: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = hostile_copy(runs, Path(tmp), names)
        for fmt in ("markdown", "latex", "csv"):
            code, out, err = report([str(folder), "--format", fmt, "--metrics", "acc"])
            if code == 2:  # a name the results schema or the JSON reader refuses
                assert len(err.strip().splitlines()) == 1 and err.startswith("spotfake: error:"), err
                refused = [
                    n for n in (names["model"], names["task"]) if not 0 < len(n) <= 200 or "\ud800" in n
                ]
                assert refused, err
                continue
            assert code == 0, err
            if fmt == "markdown":
                check_markdown(out)
            elif fmt == "latex":
                assert check_latex(out, 2) == 1 + 3  # header; clean, blur, social
            else:
                check_csv(out, 3)


@settings(
    max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=names_strategy(NAMES))
def test_fuzz_hostile_names_in_figures(runs: Path, names: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = hostile_copy(runs, Path(tmp), names)
        figures = Path(tmp) / "figs"
        code, _, err = report([str(folder), "--format", "csv", "--metrics", "acc", "--figures", str(figures)])
        assert code == 0, err
        written = sorted(figures.iterdir())
        assert len(written) >= 2 * 6  # roc, pr, reliability, scores, robustness (blur), generators
        for path in written:
            assert len(path.name.encode()) <= 255
            head = path.read_bytes()[:8]
            assert head == PNG_MAGIC if path.suffix == ".png" else head.startswith(b"<?xml")


@settings(max_examples=200, deadline=None, database=None)
@given(
    model=st.text(st.characters(exclude_categories=()), min_size=1, max_size=30),
    task=st.text(st.characters(exclude_categories=()), min_size=1, max_size=30),
)
def test_fuzz_renderers_with_any_text_including_lone_surrogates(model: str, task: str) -> None:
    """Names that never passed the JSON reader (a lone surrogate, any control character): every renderer
    returns text that encodes as UTF-8 and parses."""
    results: Any = {
        "source": "reproduced",
        "model": {"name": model, "kind": "expert"},
        "task": {"name": task, "version": "1"},
        "metrics": {"n": 4, "acc": 0.5},
        "ci": {"acc": [0.25, 0.75]},
    }
    tables = build_tables([results], ["acc"])
    for text in (to_markdown(tables), to_latex(tables), to_csv(tables)):
        text.encode("utf-8")
    check_markdown(to_markdown(tables))
    assert check_latex(to_latex(tables), 2) == 2
    check_csv(to_csv(tables), 1)
