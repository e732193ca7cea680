"""Report tables: best in bold by the registry's direction, reported rows marked, and output that parses.

The LaTeX check needs no LaTeX: balanced braces, one cell per column on every row, rows ended by ``\\\\``,
and no special character left unescaped in text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.report.tables import build_tables, latex_escape, to_csv, to_latex, to_markdown


def result(
    model: str,
    metrics: dict[str, float | None],
    *,
    source: str = "reproduced",
    task: str = "demo",
    **extra: Any,
) -> dict[str, Any]:
    ci = {k: [v - 0.01, v + 0.01] for k, v in metrics.items() if v is not None}
    return {
        "schema_version": 1,
        "spotfake_version": "0",
        "source": source,
        "model": {"name": model, "kind": "expert"},
        "task": {"name": task, "version": "1"},
        "metrics": {"n": 10, **metrics},
        "ci": {} if source == "reported" else ci,
        "per_category": {},
        "breakdowns": {},
        "created": "2026-01-01T00:00:00Z",
        **extra,
    }


RESULTS = [
    result("probe_v2", {"acc": 0.91, "eer": 0.12, "auc": 0.95}),
    result("npr", {"acc": 0.8, "eer": 0.08, "auc": None}),
    result(
        "npr",
        {"acc": 0.5, "eer": 0.4, "auc": 0.6},
        perturbation={"spec": "jpeg:50", "slug": "jpeg50", "steps": []},
    ),
    result("Paper & Co. 100% {best} #1 ~x^y $", {"acc": 0.9104, "eer": None, "auc": None}, source="reported"),
    result("=HYPERLINK(1)", {"acc": 0.1}, task="other"),
]


def check_latex(text: str, columns: int) -> int:
    """Raise AssertionError on a syntax problem; return the number of body rows checked."""
    unescaped = re.sub(r"\\[\\{}&%$#_]", "", text)
    depth = 0
    for ch in unescaped:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "closing brace before its opening one"
    assert depth == 0, "unbalanced braces"
    assert text.count(r"\begin{table}") == text.count(r"\end{table}")
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}")
    spec = re.findall(r"\\begin\{tabular\}\{([lcr]+)\}", text)
    assert spec and all(len(s) == columns for s in spec[:1])
    assert not [ch for ch in text if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs")], "control chars"
    rows = 0
    for block in re.findall(r"\\toprule\n(.*?)\\bottomrule", text, flags=re.S):
        for line in block.strip().splitlines():
            if line.strip() == r"\midrule":
                continue
            assert not line.lstrip().startswith("["), ("read as the optional argument of \\\\", line)
            assert line.endswith(r" \\"), line
            cells = re.split(r"(?<!\\)&", line[: -len(r" \\")])
            assert len(cells) == columns, line
            math_free = re.sub(r"\$\^\\dagger\$", "", line)
            for ch in "%#_&$~^":
                bare = re.findall(rf"(?<!\\){re.escape(ch)}", math_free)
                allowed = line.count("&") - line.count(r"\&") if ch == "&" else 0
                assert len(bare) == allowed, (ch, line)
            rows += 1
    return rows


def test_latex_table_syntax_is_sound_and_escapes_names() -> None:
    tables = build_tables(RESULTS, ["acc", "eer", "auc"])
    text = to_latex(tables)
    assert check_latex(text.split(r"\end{table}")[0] + r"\end{table}", 4) == 1 + 4
    assert r"Paper \& Co. 100\% \{best\} \#1 \textasciitilde{}x\textasciicircum{}y \$$^\dagger$" in text
    assert r"probe\_v2" in text
    assert r"\textbf{0.910}" in text  # the reported 0.9104 ties the probe at the shown precision
    assert r"\textbf{0.080}" in text  # EER: lower is better
    assert r"reported in the publication" in text
    assert "npr (jpeg:50)" in text


def test_latex_escape_covers_every_special_character() -> None:
    escaped = latex_escape("[a\\b&c%d$e#f_g{h}i~j^k]\x00\x1b[2J\u202e")
    assert check_latex(
        "\\begin{table}\\begin{tabular}{ll}\n\\toprule\nx & "
        + escaped
        + " \\\\\n\\bottomrule\n\\end{tabular}\\end{table}",
        2,
    )


def test_markdown_rows_have_the_header_column_count() -> None:
    text = to_markdown(build_tables(RESULTS, ["acc", "eer", "auc"]))
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    counts = {len(re.findall(r"(?<!\\)\|", line)) for line in table_lines}
    assert counts == {5}  # model + 3 metrics on every line of both tables
    assert "| Model | Acc | EER | AUC |" in text
    assert "|---|---:|---:|---:|" in text
    assert "**0.910** [0.900, 0.920]" in text
    assert "**0.080** [0.070, 0.090]" in text
    assert "\\{best\\}" not in text and "Paper \\& Co. 100% {best} \\#1 \\~x^y \\$†" in text
    assert "† reported in the publication" in text
    assert "probe\\_v2" in text


def test_csv_has_values_and_intervals_and_no_formulas() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(build_tables(RESULTS, ["acc", "auc"])))))
    assert [r["model"] for r in rows][:3] == ["probe_v2", "npr", "npr"]
    assert rows[2]["perturbation"] == "jpeg:50"
    assert float(rows[0]["acc"]) == 0.91 and float(rows[0]["acc_ci_low"]) == pytest.approx(0.9)
    assert rows[1]["auc"] == "" and rows[3]["source"] == "reported" and rows[3]["acc_ci_low"] == ""
    assert rows[-1]["model"] == "'=HYPERLINK(1)"


def test_one_table_per_task_and_default_metrics_are_those_with_values() -> None:
    tables = build_tables(RESULTS)
    assert [t.task for t in tables] == ["demo", "other"]
    assert tables[0].metrics == ("acc", "eer", "auc")
    assert tables[1].metrics == ("acc",)
    assert not any(c.best for r in tables[1].rows for c in r.cells)  # a single row has no "best"


def test_unknown_metric_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(SpotfakeError, match="acc"):
        build_tables(RESULTS, ["acuracy"])


@pytest.mark.parametrize(
    "row",
    [r"a_b & 1 \\", r"a & 1 & 2 \\", r"{a & 1 \\", r"a & 1", r"50% & 1 \\", r"[a] & 1 \\", "a\x1b & 1 \\\\"],
)
def test_the_latex_check_itself_catches_broken_rows(row: str) -> None:
    text = (
        "\\begin{table}\\begin{tabular}{lc}\n\\toprule\n" + row + "\n\\bottomrule\n\\end{tabular}\\end{table}"
    )
    with pytest.raises(AssertionError):
        check_latex(text, 2)


@pytest.mark.parametrize(
    "name", ["\r=1+1", "\t=cmd", " =SUM(A1)", "+x", "-x", "@x", "\uff1dx", "ok\r=2", "a\n@b", "=x\r\n"]
)
def test_no_csv_cell_starts_a_formula_whatever_its_leading_characters(name: str) -> None:
    from spotfake.harness.report.tables import FORMULA_STARTS

    results = [{**RESULTS[0], "model": {**RESULTS[0]["model"], "name": name, "args": {}}}]
    text = to_csv(build_tables(results, ["acc"]))
    assert len(text.strip().splitlines()) == 2  # the header and one row: no break survives inside a cell
    cell = next(csv.DictReader(io.StringIO(text)))["model"]
    assert "\r" not in cell and "\n" not in cell
    assert cell.lstrip(" ")[:1] not in FORMULA_STARTS


def test_rows_of_one_model_with_other_settings_are_told_apart() -> None:
    base = RESULTS[0]
    task = {**base["task"], "args": {"split": "test"}, "default_args": {"split": "test"}}
    runs = [
        {**base, "model": {**base["model"], "name": "random", "args": {}}, "task": task},
        {**base, "model": {**base["model"], "name": "random", "args": {"seed": "1"}}, "task": task},
        {
            **base,
            "model": {**base["model"], "name": "random", "args": {}},
            "task": {**task, "args": {"split": "train"}},
        },
    ]
    (table,) = build_tables(runs, ["acc"])
    assert sorted(r.name for r in table.rows) == ["random", "random@seed=1", "random@split=train"]
