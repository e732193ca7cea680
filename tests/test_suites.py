"""Suites: a named set of tasks run in one command, printed as the table its papers print."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.suites.run import data_roots, root_for
from spotfake.harness.suites.spec import get_suite, parse_suite
from spotfake.harness.suites.table import suite_tables

REPRODUCED = REPO_ROOT / "results" / "reproduced"


def _committed(task: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(REPRODUCED.glob(f"*/{task}/results.json"))]


def test_the_built_in_suites_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "suites"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"demo", "fakevlm", "genimage", "ufd"} <= set(names)


def test_a_suite_table_has_a_row_per_generator_then_mean_std_and_worst() -> None:
    suite = get_suite("demo")
    results = _committed("demo")
    tables = suite_tables(suite, results)
    assert len(tables) == len(results) >= 5  # one table per model
    npr = next(t for t in tables if t.task == "demo: npr-demo")
    names = [r.name for r in npr.rows]
    assert names == ["demo / dcgan", "demo / ddpm", "demo / vae", "mean", "std", "worst"]
    source = next(r for r in results if r["model"]["name"] == "npr-demo")
    acc = [source["breakdowns"]["generator"][g]["acc"] for g in ("dcgan", "ddpm", "vae")]
    column = npr.metrics.index("acc")
    assert [r.cells[column].value for r in npr.rows[:3]] == acc
    assert npr.rows[3].cells[column].value == pytest.approx(statistics.fmean(acc))
    assert npr.rows[4].cells[column].value == pytest.approx(statistics.stdev(acc))
    assert npr.rows[5].cells[column].value == min(acc)  # the worst generator


def test_worst_is_the_maximum_of_a_lower_is_better_metric() -> None:
    suite = parse_suite(
        {"name": "t", "metrics": ["eer"], "entries": [{"task": "demo", "rows_by": "generator"}]}, "t.yaml"
    )
    (table,) = [t for t in suite_tables(suite, _committed("demo")) if t.task == "t: npr-demo"]
    values = [r.cells[0].value for r in table.rows[:3]]
    assert table.rows[-1].cells[0].value == max(v for v in values if v is not None)


def test_run_suite_runs_every_task_and_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--suite", "demo", "--model", "always-fake", "--output-dir", str(tmp_path)]
    assert main([*argv, "--quiet", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "demo: always-fake" in out and "| demo / ddpm |" in out and "| worst |" in out
    assert (tmp_path / "always-fake" / "demo" / "results.json").is_file()
    assert main(["report", str(tmp_path), "--suite", "demo", "--format", "csv"]) == 0
    assert "always-fake" in capsys.readouterr().out


def test_a_missing_entry_is_a_row_that_says_so_and_counts_in_no_summary() -> None:
    suite = parse_suite({"name": "t", "metrics": ["acc"], "entries": ["demo", "loki"]}, "t.yaml")
    (table,) = [t for t in suite_tables(suite, _committed("demo")) if t.task == "t: npr-demo"]
    assert [r.name for r in table.rows[:2]] == ["demo", "loki (not run)"]
    assert table.rows[2].cells[0].value == table.rows[0].cells[0].value  # the mean of the one run


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"name": "t", "metrics": ["acc"], "entries": ["demo"], "extra": 1}, None),
        ({"name": "t", "metrics": ["acc_typo"], "entries": ["demo"]}, "acc_typo"),
        ({"name": "t", "metrics": ["acc"], "entries": [{"task": "demo", "rows": "x"}]}, "unknown entry key"),
        ({"name": "t", "metrics": [], "entries": ["demo"]}, "non-empty"),
        ({"metrics": ["acc"], "entries": ["demo"]}, "missing name"),
    ],
)
def test_malformed_suites_are_one_line(data: dict, says: str | None) -> None:
    if says is None:
        assert parse_suite(data, "t.yaml").name == "t"  # unknown top-level keys are comments
        return
    with pytest.raises(SpotfakeError) as info:
        parse_suite(data, "t.yaml")
    assert says in str(info.value) and "\n" not in str(info.value) and "t.yaml" in str(info.value)


def test_data_roots_are_one_folder_or_task_pairs(tmp_path: Path) -> None:
    (tmp_path / "loki").mkdir()
    assert data_roots(str(tmp_path)) == (str(tmp_path), {})
    assert root_for("loki", str(tmp_path), {}) == str(tmp_path / "loki")
    assert root_for("ddvqa", str(tmp_path), {}) == str(tmp_path)
    assert data_roots("loki=/a,ddvqa=/b") == (None, {"loki": "/a", "ddvqa": "/b"})
    with pytest.raises(SpotfakeError, match="TASK=PATH"):
        data_roots("loki=/a,=/b")


def test_run_suite_refuses_a_data_root_for_a_task_it_does_not_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--suite", "fakevlm", "--model", "always-fake", "--data-root", "genimage=/x"]) == 2
    err = capsys.readouterr().err
    assert "not in suite 'fakevlm'" in err and len(err.strip().splitlines()) == 1


def _run_of(task: str, args: dict[str, str], metrics: dict, per_category: dict | None = None) -> dict:
    """A results file as the suite table reads it: one model's run of ``task``."""
    return {
        "source": "reproduced",
        "model": {"name": "m", "kind": "expert", "args": {}, "fingerprint": "f"},
        "task": {"name": task, "version": "1", "data_fingerprint": "d", "args": args, "default_args": {}},
        "metrics": metrics,
        "ci": {},
        "per_category": per_category or {},
        "breakdowns": {},
    }


def test_dda_prints_each_benchmark_mean_std_and_worst_then_the_same_over_the_benchmarks() -> None:
    """DDA's README: per benchmark the mean ± std over its generators; "Avg ACC" and "Min ACC" over the
    benchmarks' means (Chameleon has one row, so its mean is that row)."""
    genimage = {"adm": 0.9, "biggan": 0.7, "sdv1.4": 0.95}
    wildrf = {"facebook": 0.6, "reddit": 0.8, "twitter": 0.75}
    results = [
        _run_of(
            "genimage", {"align": "jpeg96-fakes"}, {}, {k: {"bacc_all_reals": v} for k, v in genimage.items()}
        ),
        _run_of("chameleon", {}, {"bacc_all_reals": 0.55}),
        _run_of("wildrf", {}, {}, {k: {"bacc_all_reals": v} for k, v in wildrf.items()}),
    ]
    (table,) = suite_tables(get_suite("dda"), results)
    column = table.metrics.index("bacc_all_reals")
    value = {r.name: r.cells[column].value for r in table.rows}
    gen = "genimage@align=jpeg96-fakes"
    assert [r.name for r in table.rows][:7] == [
        *(f"{gen} / {g}" for g in sorted(genimage)),
        f"{gen} mean",
        f"{gen} std",
        f"{gen} worst",
        "drct2m (not run)",
    ]
    assert "drct2m mean" not in value  # an entry that was not run gets no summary of its own
    for title, rows in ((gen, genimage), ("wildrf", wildrf)):
        assert value[f"{title} mean"] == pytest.approx(statistics.fmean(rows.values()))
        assert value[f"{title} std"] == pytest.approx(statistics.stdev(rows.values()))
        assert value[f"{title} worst"] == min(rows.values())
    means = [statistics.fmean(genimage.values()), 0.55, statistics.fmean(wildrf.values())]
    assert [r.name for r in table.rows[-3:]] == ["mean", "std", "worst"]
    assert value["mean"] == pytest.approx(statistics.fmean(means))
    assert value["std"] == pytest.approx(statistics.stdev(means))
    assert value["worst"] == 0.55  # the worst benchmark, not the worst generator (0.6 on WildRF is a row)
    flat = parse_suite({**_dda_yaml(), "summary_over": "rows", "entry_summaries": False}, "t.yaml")
    (rows_table,) = suite_tables(flat, results)
    every = [*genimage.values(), 0.55, *wildrf.values()]
    assert rows_table.rows[-3].cells[column].value == pytest.approx(statistics.fmean(every))
    assert not any(r.name.endswith(" mean") for r in rows_table.rows)


def _dda_yaml() -> dict:
    import yaml

    return yaml.safe_load((REPO_ROOT / "tasks" / "suites" / "dda.yaml").read_text())


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("summary_over", "benchmarks", "'summary_over' must be one of rows, entries"),
        ("entry_summaries", "yes", "true or false"),
    ],
)
def test_bad_summary_keys_are_one_line(key: str, value: str, says: str) -> None:
    with pytest.raises(SpotfakeError) as info:
        parse_suite({"name": "t", "metrics": ["acc"], "entries": ["demo"], key: value}, "t.yaml")
    assert says in str(info.value) and "t.yaml" in str(info.value)
