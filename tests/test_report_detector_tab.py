"""The leaderboard's detector tab, driven headless: curves, threshold table, robustness and generator charts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TOY_TASK
from PIL import Image
from streamlit.testing.v1 import AppTest

from spotfake.harness.model import Item, Model
from spotfake.harness.report.curves import operating_point
from spotfake.harness.robustness import plan, sweep
from spotfake.harness.runner import RunOptions
from spotfake.harness.scoring import ScoringOptions
from spotfake.harness.task import load_task
from spotfake.harness.types import Response

pytestmark = pytest.mark.xdist_group("leaderboard_app")


class Grain(Model):
    """p(fake) falls with the image's pixel-to-pixel variation, so blur and JPEG push scores up."""

    kind = "expert"
    needs_images = True

    def __init__(self, name: str, scale: float) -> None:
        self.name = name
        self.scale = scale

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = []
        for item in items:
            grain = float(np.abs(np.diff(np.asarray(item.images[0], dtype=np.float64), axis=1)).mean())
            out.append(Response(score=float(np.clip(1.0 - grain / self.scale, 0.0, 1.0))))
        return out


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("detector")
    images = root / "imgs"
    images.mkdir()
    rng = np.random.default_rng(2)
    for i in range(24):
        noise = 45 if i % 3 == 0 else 15
        arr = np.clip(128 + rng.normal(0, noise, (24, 24, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(images / f"img_{i}.png")
    task = load_task(str(TOY_TASK), data_root=images, task_args={"n": 24})
    options = RunOptions(
        output_dir=root / "runs", progress=False, workers=1, scoring=ScoringOptions(n_bootstrap=40)
    )
    for name, scale in (("grain-a", 60.0), ("grain-b", 90.0)):
        sweep(Grain(name, scale), {}, task, plan(["jpeg:90,60,30"]), options)
    return root / "runs"


def _script(runs_dir: str) -> None:
    from pathlib import Path

    from spotfake.leaderboard.app import AppConfig, main

    main(AppConfig(results_dir=None, runs_dir=Path(runs_dir)))


def _app(runs_dir: Path, threshold: float | None = None) -> AppTest:
    at = AppTest.from_function(_script, args=(str(runs_dir),), default_timeout=60)
    at.session_state["tab"] = "Detector curves"
    at.run()
    if threshold is not None:
        at.slider(key="det_thr:toy").set_value(threshold).run()
    return at


def _chart_titles(at: AppTest) -> list[str]:
    titles = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        title = spec.get("title")
        titles.append(title if isinstance(title, str) else (title or {}).get("text", ""))
    return titles


def _samples(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    return np.array([r["label"] == "fake" for r in rows], dtype=int), np.array([r["score"] for r in rows])


def test_the_tab_draws_every_detector_view(runs_dir: Path) -> None:
    at = _app(runs_dir)
    assert not at.exception
    titles = _chart_titles(at)
    for expected in (
        "ROC",
        "Precision-recall",
        "Reliability",
        "Scores of real and fake",
        "vs JPEG quality",
        "per generator",
    ):
        assert any(expected in t for t in titles), (expected, titles)


@pytest.mark.parametrize("threshold", [0.3, 0.7])
def test_the_threshold_table_matches_the_records(runs_dir: Path, threshold: float) -> None:
    at = _app(runs_dir, threshold)
    assert not at.exception
    (table,) = [d.value for d in at.dataframe if "acc (real)" in d.value.columns]
    labels, scores = _samples(runs_dir / "grain-a" / "toy@n=24")
    op = operating_point(labels, scores, threshold)
    assert op is not None
    row: Any = table.loc[[i for i in table.index if i.startswith("grain-a")][0]]
    assert row["acc"] == pytest.approx(round(op.acc, 3))
    assert row["acc (real)"] == pytest.approx(round(op.acc_real or 0, 3))
    assert row["acc (fake)"] == pytest.approx(round(op.acc_fake or 0, 3))
    assert row["n scored"] == 24


def test_the_robustness_curve_carries_each_runs_value_and_interval(runs_dir: Path) -> None:
    import pyarrow as pa

    at = _app(runs_dir)
    (chart,) = [c for c in at.get("vega_lite_chart") if "JPEG quality" in c.proto.spec]
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    swept = next(f for f in frames if "strength" in f.columns)
    assert sorted(set(swept["strength"])) == [30.0, 60.0, 90.0]
    for model in ("grain-a", "grain-b"):
        for quality in (30, 60, 90):
            saved = json.loads((runs_dir / model / f"toy@n=24@jpeg{quality}" / "results.json").read_text())
            label = f"{model}@n=24"  # the run's display name: n=24 is not the toy task's default
            row = swept[(swept["model"] == label) & (swept["strength"] == quality)].iloc[0]
            assert row["Acc"] == saved["metrics"]["acc"]
            assert [row["low"], row["high"]] == saved["ci"]["acc"]
    clean = next(f for f in frames if "strength" not in f.columns)
    saved = json.loads((runs_dir / "grain-b" / "toy@n=24" / "results.json").read_text())
    assert clean.set_index("model").loc["grain-b@n=24", "Acc"] == saved["metrics"]["acc"]
