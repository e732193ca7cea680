"""``spotfake report``: tables in three formats and figure files from run folders; bad input exits 2."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, TOY_TASK
from PIL import Image
from test_report_tables import check_latex

from spotfake.harness import cli
from spotfake.harness.model import Item, Model
from spotfake.harness.robustness import plan, sweep
from spotfake.harness.runner import RunOptions
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Grain(Model):
    """p(fake) from the image's smoothness."""

    kind = "expert"
    needs_images = True

    def __init__(self, name: str) -> None:
        self.name = name

    def predict(self, items: Sequence[Item]) -> list[Response]:
        return [
            Response(score=float(1 - np.abs(np.diff(np.asarray(i.images[0], float), axis=1)).mean() / 80))
            for i in items
        ]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    (root / "imgs").mkdir()
    rng = np.random.default_rng(3)
    for i in range(15):
        arr = np.clip(128 + rng.normal(0, 40 if i % 3 == 0 else 12, (20, 20, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(root / "imgs" / f"img_{i}.png")
    task = load_task(str(TOY_TASK), data_root=root / "imgs", task_args={"n": 15})
    options = RunOptions(
        output_dir=root / "runs", progress=False, workers=1, scoring=ScoringOptions(n_bootstrap=30)
    )
    sweep(Grain("grain"), {}, task, plan(["blur:0.5,2"]), options)
    reported = REPO_ROOT / "results" / "reported"
    shutil.copytree(next(p.parent for p in sorted(reported.rglob("results.json"))), root / "runs" / "paper")
    return root / "runs"


def test_latex_report_is_well_formed(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(runs / "grain"), "--format", "latex", "--metrics", "acc,auc,eer"]) == 0
    text = capsys.readouterr().out
    assert check_latex(text, 4) == 1 + 3  # header; clean, blur:0.5, blur:2
    assert "grain@n=15 (blur:0.5)" in text and r"\textbf{" in text  # the run identity names the row


def test_markdown_and_csv_reports(runs: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["report", str(runs), "--metrics", "acc"]) == 0
    text = capsys.readouterr().out
    assert "| Model | Acc |" in text and "†" in text  # the copied reported row is marked
    out = tmp_path / "table.csv"
    assert cli.main(["report", str(runs / "grain"), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted(r["perturbation"] for r in rows) == ["", "blur:0.5", "blur:2"]
    assert all(r["auc"] for r in rows)


def test_figures_are_written_as_png_and_svg(runs: Path, tmp_path: Path) -> None:
    figures = tmp_path / "figs"
    assert cli.main(["report", str(runs / "grain"), "--metrics", "acc,auc", "--figures", str(figures)]) == 0
    names = sorted(p.name for p in figures.iterdir())
    for stem in (
        "toy-roc",
        "toy-pr",
        "toy-reliability",
        "toy-scores",
        "toy-robustness-auc-blur",
        "toy-generators-acc",
    ):
        assert f"{stem}.png" in names and f"{stem}.svg" in names, (stem, names)
        assert (figures / f"{stem}.png").read_bytes().startswith(PNG_MAGIC)
        assert (figures / f"{stem}.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["report", "no/such/folder"], "no such run folder"),
        (["report", "{empty}"], "no results.json"),
        (["report", "{runs}", "--metrics", "acuracy"], "acc"),
        (["report", "{runs}", "--format", "html"], "invalid choice"),
    ],
)
def test_bad_report_input_is_one_line(
    argv: list[str], says: str, runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    argv = [a.format(runs=runs, empty=tmp_path / "empty") for a in argv]
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and err.splitlines()[-1].count("error") == 1


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex is not installed (the syntax check above runs)"
)
def test_latex_report_compiles_with_pdflatex(runs: Path, tmp_path: Path) -> None:
    import subprocess

    assert cli.main(["report", str(runs), "--format", "latex", "--output", str(tmp_path / "table.tex")]) == 0
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
        "\\usepackage{booktabs}\n\\begin{document}\n\\input{table.tex}\n\\end{document}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_figures_draw_names_with_dollars_as_plain_text(runs: Path, tmp_path: Path) -> None:
    import json

    folder = tmp_path / "runs"
    shutil.copytree(runs / "grain", folder / "grain")
    for path in folder.rglob("results.json"):
        results = json.loads(path.read_text())
        results["model"]["name"] = "$\\frac{a$ grain $x^"  # unbalanced mathtext: a crash if parsed
        path.write_text(json.dumps(results))
    figures = tmp_path / "figs"
    assert cli.main(["report", str(folder), "--metrics", "acc", "--figures", str(figures)]) == 0
    assert any(p.suffix == ".svg" and "grain" in p.read_text() for p in figures.iterdir())


def test_figures_of_lookalike_tasks_presets_and_long_chains(runs: Path, tmp_path: Path) -> None:
    """Tasks named ``a b`` and ``a_b`` get figures of their own; a preset or a 40-step chain has no
    strength to draw (no empty figure, no file name over 255 bytes) and is still in the table."""
    import json

    chain = "+".join(f"jpeg:{q}" for q in range(50, 90))
    perturbed = {
        "social": [{"name": "social", "value": None}],
        chain: [{"name": "jpeg", "value": float(q)} for q in range(50, 90)],
    }
    folder = tmp_path / "runs"
    for task in ("a b", "a_b"):
        for i, path in enumerate(sorted((runs / "grain").rglob("results.json"))):
            copy = folder / task.replace(" ", "-") / str(i)
            shutil.copytree(path.parent, copy)
            results = json.loads(path.read_text())
            results["task"]["name"] = task
            if "perturbation" in results and results["perturbation"]["spec"] == "blur:2":
                spec = "social" if task == "a b" else chain
                results["perturbation"] = {"spec": spec, "slug": "x", "steps": perturbed[spec]}
            (copy / "results.json").write_text(json.dumps(results))
    figures = tmp_path / "figs"
    out = tmp_path / "table.csv"
    argv = ["report", str(folder), "--metrics", "acc", "--format", "csv", "--output", str(out)]
    assert cli.main([*argv, "--figures", str(figures)]) == 0
    names = sorted(p.name for p in figures.iterdir())
    assert len([n for n in names if n.endswith("-roc.png")]) == 2  # one per task, neither overwritten
    assert len([n for n in names if "robustness-acc" in n and n.endswith(".png")]) == 2  # blur only
    assert all(len(n.encode()) <= 255 for n in names)
    assert sorted(r["perturbation"] for r in csv.DictReader(io.StringIO(out.read_text()))) == sorted(
        ["", "", "blur:0.5", "blur:0.5", "social", chain]
    )


def test_figures_leave_out_values_matplotlib_cannot_place(runs: Path, tmp_path: Path) -> None:
    """Metric values, intervals, strengths and a threshold of 1e308 (valid JSON numbers) crashed the
    robustness figure (LinAlgError); they are left out of the figures and still in the table."""
    import json

    folder = tmp_path / "runs"
    shutil.copytree(runs / "grain", folder / "grain")
    for path in folder.rglob("results.json"):
        results = json.loads(path.read_text())
        results["metrics"] = {k: 1e308 if isinstance(v, float) else v for k, v in results["metrics"].items()}
        results["ci"] = {k: [-1e308, 1e308] for k in results["ci"]}
        results.setdefault("scoring", {})["threshold"] = 1e308
        if "perturbation" in results and results["perturbation"]["spec"] == "blur:2":
            results["perturbation"] = {
                "spec": "blur:1e308",
                "slug": "x",
                "steps": [{"name": "blur", "value": 1e308}],
            }
        path.write_text(json.dumps(results))
    figures = tmp_path / "figs"
    argv = ["report", str(folder), "--metrics", "acc", "--figures", str(figures)]
    assert cli.main(argv) == 0
    assert (figures / "toy-roc.png").read_bytes().startswith(PNG_MAGIC)


def test_score_histograms_of_many_runs_wrap_into_rows(runs: Path, tmp_path: Path) -> None:
    import json

    folder = tmp_path / "runs"
    clean = next(
        p.parent
        for p in (runs / "grain").rglob("results.json")
        if "perturbation" not in json.loads(p.read_text())
    )
    for i in range(8):
        shutil.copytree(clean, folder / f"m{i}")
        results = json.loads((folder / f"m{i}" / "results.json").read_text())
        results["model"]["name"] = f"m{i}"
        (folder / f"m{i}" / "results.json").write_text(json.dumps(results))
    figures = tmp_path / "figs"
    assert cli.main(["report", str(folder), "--metrics", "acc", "--figures", str(figures)]) == 0
    with Image.open(figures / "toy-scores.png") as image:
        width, height = image.size
    assert width < 6.5 * 3.2 * 150 and height > 2 * 2.8 * 150 * 0.8  # six panels a row, two rows
