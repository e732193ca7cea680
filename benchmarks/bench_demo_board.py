"""Benchmark: how hard is the demo set? Two quick reference detectors, accuracy per generator on test.

Trained on the demo training split (real vs the seen families) and scored on the test split, broken down
by generator, so the shape of the board is known without the embedded models:

- ``properties-logreg``: logistic regression on the eight measured properties the clues are written from
  (read from ``clue_evidence.json``), standardised;
- ``residual-cnn``: a three-layer CNN on the NPR-style residual ``x - up(down(x))`` (nearest, factor 2),
  Adam 1e-3, batch 64, seeded, one thread.

    nice .venv/bin/python benchmarks/bench_demo_board.py [--epochs 8] [--data-root DIR]

Prints and stores benchmarks/results/demo_board.json.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _load(root: Path, split: str) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    from PIL import Image

    records = json.loads((root / "data_json" / f"{split}.json").read_text(encoding="utf-8"))
    pixels = np.stack([np.asarray(Image.open(root / split / r["image"]).convert("RGB")) for r in records])
    fake = np.array([1 - int(r["label"]) for r in records])
    generator = np.array([r["generator"] for r in records])
    return records, pixels, fake, generator


def _per_generator(pred: np.ndarray, fake: np.ndarray, generator: np.ndarray) -> dict[str, float]:
    out = {
        g: round(float((pred[generator == g] == fake[generator == g]).mean()), 3)
        for g in sorted(set(generator))
    }
    out["overall"] = round(float((pred == fake).mean()), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--data-root", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch
    import torch.nn.functional as F
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from torch import nn

    from spotfake.tasks.demo import DATA_DIR

    root = args.data_root or DATA_DIR
    train_records, train_x, train_y, _ = _load(root, "train")
    test_records, test_x, test_y, test_g = _load(root, "test")
    evidence = json.loads((root / "clue_evidence.json").read_text(encoding="utf-8"))["splits"]

    def features(split: str, records: list[dict]) -> np.ndarray:
        return np.array([list(evidence[split][r["image"]]["properties"].values()) for r in records])

    report: dict[str, object] = {
        "benchmark": "demo_board",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "train": len(train_records),
        "test": len(test_records),
    }
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    logreg.fit(features("train", train_records), train_y)
    report["properties-logreg"] = _per_generator(
        logreg.predict(features("test", test_records)), test_y, test_g
    )

    torch.set_num_threads(1)
    torch.manual_seed(0)

    def residual(x: torch.Tensor) -> torch.Tensor:
        return x - F.interpolate(
            F.interpolate(x, scale_factor=0.5, mode="nearest"), scale_factor=2.0, mode="nearest"
        )

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1

    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 1),
    )  # fmt: skip
    xtr, ytr, xte = tensor(train_x), torch.from_numpy(train_y).float(), tensor(test_x)
    optimiser = torch.optim.Adam(net.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(0)
    start = time.process_time()
    for _ in range(args.epochs):
        order = torch.randperm(len(xtr), generator=generator)
        for i in range(0, len(xtr), 64):
            index = order[i : i + 64]
            loss = F.binary_cross_entropy_with_logits(net(residual(xtr[index])).squeeze(1), ytr[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        pred = (net(residual(xte)).squeeze(1) > 0).long().numpy()
    report["residual-cnn"] = _per_generator(pred, test_y, test_g)
    report["residual-cnn_train_cpu_s"] = round(time.process_time() - start, 1)
    print(json.dumps(report, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "demo_board.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
