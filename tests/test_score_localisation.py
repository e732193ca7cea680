"""``spotfake score`` on a SID-Set-layout copy with mask and box predictions: gIoU, cIoU, pixel F1 and box IoU
equal an independent numpy computation on the same masks; masks given as PNG files are stored as RLE, so
the written samples.jsonl scores again to the same numbers anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.cli import main

H, W = 24, 32


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((H, W), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def rle(mask: np.ndarray) -> dict[str, object]:
    """Uncompressed COCO RLE, written out here (column-major runs, background first)."""
    flat = mask.T.reshape(-1).astype(int)
    runs, current, length = [], 0, 0
    for value in flat:
        if value == current:
            length += 1
        else:
            runs.append(length)
            current, length = value, 1
    runs.append(length)
    return {"size": [H, W], "counts": runs}


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return iw * ih / union


TRUTHS = {
    "t1": rect(2, 12, 4, 20),
    "t2": rect(10, 22, 10, 30),
    "t3": rect(0, 8, 0, 8) | rect(16, 24, 24, 32),
    "t4": rect(6, 18, 6, 18),
    "t5": rect(4, 20, 16, 28),
    "t6": rect(1, 5, 1, 5),
}
TRUTH_BOXES = {
    "t1": [(4, 2, 20, 12)],
    "t2": [(10, 10, 30, 22)],
    "t3": [(0, 0, 8, 8), (24, 16, 32, 24)],
    "t4": [(6, 6, 18, 18)],
    "t5": [(16, 4, 28, 20)],
    "t6": [(1, 1, 5, 5)],
}


def layout(root: Path) -> Path:
    base = root / "test"
    for folder in ("real", "full_synthetic", "tampered", "masks"):
        (base / folder).mkdir(parents=True)
    Image.new("RGB", (W, H)).save(base / "real" / "r1.jpg")
    Image.new("RGB", (W, H)).save(base / "full_synthetic" / "f1.png")
    for name, truth in TRUTHS.items():
        Image.new("RGB", (W, H)).save(base / "tampered" / f"{name}.png")
        Image.fromarray(truth.astype(np.uint8) * 255).save(base / "masks" / f"{name}_mask.png")
    return root


def predictions(folder: Path) -> tuple[Path, dict[str, np.ndarray], dict[str, list[tuple[float, ...]]]]:
    """Every kind of prediction, and the predicted masks and boxes they stand for."""
    soft = np.zeros((H, W), dtype=np.uint8)
    soft[4:14, 6:22] = 200  # above 0.5
    soft[14:16, 6:22] = 100  # below 0.5: background
    Image.fromarray(soft).save(folder / "t1_pred.png")
    p2 = rect(12, 20, 12, 26)
    grid = f"<box>(0,0),({10 * 1000 // W * 1.0:.4f},{10 * 1000 / H:.4f})</box>"
    rows = [
        {"id": "real/r1.jpg", "response": "[CLS] The image is real"},
        {"id": "full_synthetic/f1.png", "response": "[CLS] This image is classified as full synthetic."},
        {"id": "tampered/t1.png", "response": "The image is tampered", "mask": "t1_pred.png"},
        {"id": "tampered/t2.png", "response": "The image is tampered", "mask": rle(p2)},
        {"id": "tampered/t3.png", "boxes": [[0, 0, 8, 6], [20, 16, 32, 24]]},  # boxes only, no text
        {"id": "tampered/t4.png", "response": f"The image is tampered: <ref>the face</ref>{grid}"},
        {
            "id": "tampered/t5.png",
            "response": '<think>the clock melts</think><answer>{"answer": "tampered", "bbox_2d": [16, 8, 28, 20]}</answer>',
        },
    ]  # t6: no prediction at all
    path = folder / "sida-like.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    x1 = 10 * 1000 // W * W / 1000.0  # the grid corner back in pixels
    masks = {
        "t1": rect(4, 14, 6, 22),
        "t2": p2,
        "t3": rect(0, 6, 0, 8) | rect(16, 24, 20, 32),
        "t4": rect(0, 10, 0, int(np.floor(x1 + 0.5))),
        "t5": rect(8, 20, 16, 28),
        "t6": np.zeros((H, W), dtype=bool),
    }
    boxes = {
        "t1": [(6, 4, 22, 14)],
        "t2": [(12, 12, 26, 20)],
        "t3": [(0, 0, 8, 6), (20, 16, 32, 24)],
        "t4": [(0, 0, x1, 10)],
        "t5": [(16, 8, 28, 20)],
        "t6": [],
    }
    return path, masks, boxes


def expected(masks: dict[str, np.ndarray], boxes: dict[str, list[tuple[float, ...]]]) -> dict[str, float]:
    inter = {k: np.logical_and(masks[k], TRUTHS[k]).sum() for k in TRUTHS}
    union = {k: np.logical_or(masks[k], TRUTHS[k]).sum() for k in TRUTHS}
    best = {
        k: float(np.mean([max((box_iou(t, p) for p in boxes[k]), default=0.0) for t in TRUTH_BOXES[k]]))
        for k in TRUTHS
    }
    return {
        "giou": float(np.mean([inter[k] / union[k] for k in TRUTHS])),
        "ciou": float(sum(inter.values()) / sum(union.values())),
        "pixel_f1": float(np.mean([2 * inter[k] / (masks[k].sum() + TRUTHS[k].sum()) for k in TRUTHS])),
        "box_iou": float(np.mean(list(best.values()))),
    }


def score(preds: Path, data: Path, out: Path, name: str) -> dict[str, object]:
    code = main(
        [
            "score",
            "--task",
            "sid-set",
            "--data-root",
            str(data),
            "--predictions",
            str(preds),
            "--model-name",
            name,
        ]
        + ["--output-dir", str(out), "--bootstrap", "50"]
    )
    assert code == 0
    results: dict[str, object] = json.loads((out / name / "sid-set" / "results.json").read_text())
    return results


def test_spotfake_score_on_masks_and_boxes_equals_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = layout(tmp_path / "SID_Set")
    folder = tmp_path / "preds"
    folder.mkdir()
    preds, masks, boxes = predictions(folder)
    monkeypatch.chdir(tmp_path)  # the PNG mask is named relative to the predictions file, not to here
    results = score(preds, data, tmp_path / "out", "sida-like")
    metrics = results["metrics"]
    assert isinstance(metrics, dict)
    for name, value in expected(masks, boxes).items():
        assert metrics[name] == pytest.approx(value), name
    assert metrics["sida_acc3"] == pytest.approx(6 / 8)  # classes read from the answers; t3 and t6 have none
    assert results["scoring"]["mask_threshold"] == 0.5  # type: ignore[index]  # the soft t1_pred.png's
    records = [
        json.loads(line) for line in (tmp_path / "out" / "sida-like" / "sid-set" / "samples.jsonl").open()
    ]
    t1 = next(r for r in records if r["id"] == "tampered/t1.png")
    assert set(t1["mask"]) == {"size", "counts"} and isinstance(t1["mask"]["counts"], str)  # RLE, not a path
    assert t1["fields"]["region_overlap"][:2] == [
        float(np.logical_and(masks["t1"], TRUTHS["t1"]).sum()),
        float(np.logical_or(masks["t1"], TRUTHS["t1"]).sum()),
    ]

    assert t1["metadata"]["mask"] == "test/masks/t1_mask.png"  # relative to the data root, no machine path
    assert not any(Path(r["metadata"].get("mask", "")).is_absolute() for r in records)

    stored = tmp_path / "stored.jsonl"  # the records as predictions (the missing one left out)
    stored.write_text("".join(json.dumps(r) + "\n" for r in records if r["id"] != "tampered/t6.png"))
    again = score(stored, data, tmp_path / "out", "stored")
    assert again["metrics"] == pytest.approx(metrics)  # type: ignore[arg-type]

    older = tmp_path / "older.jsonl"  # records of an older run, which stored absolute mask paths
    for r in records:
        if "mask" in r["metadata"]:
            r["metadata"]["mask"] = str((data / r["metadata"]["mask"]).absolute())
    older.write_text("".join(json.dumps(r) + "\n" for r in records if r["id"] != "tampered/t6.png"))
    assert score(older, data, tmp_path / "out", "older")["metrics"] == pytest.approx(metrics)  # type: ignore[arg-type]


def test_a_truth_mask_reference_resolves_against_its_roots(tmp_path: Path) -> None:
    from spotfake.harness.regions.overlap import TruthRoots

    roots = TruthRoots(tmp_path / "data", tmp_path / "cache")
    inside, cached, elsewhere = (
        tmp_path / "data/m/a.png",
        tmp_path / "cache/images/ab/c.png",
        tmp_path / "x.png",
    )
    assert [roots.reference(p) for p in (inside, cached, elsewhere)] == [
        "m/a.png",
        "cache:images/ab/c.png",
        str(elsewhere),
    ]
    assert [roots.resolve(roots.reference(p)) for p in (inside, cached, elsewhere)] == [
        inside,
        cached,
        elsewhere,
    ]


def test_a_localisation_run_passes_the_submission_check(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")  # the leaderboard extra
    from spotfake.leaderboard.received import files_from_folder
    from spotfake.leaderboard.submission import check_submission

    data = layout(tmp_path / "SID_Set")
    folder = tmp_path / "preds"
    folder.mkdir()
    preds, _masks, _boxes = predictions(folder)
    results = score(preds, data, tmp_path / "out", "sida-like")
    checked = check_submission(files_from_folder(tmp_path / "out" / "sida-like" / "sid-set"), data_root=data)
    assert checked.results["metrics"]["giou"] == pytest.approx(results["metrics"]["giou"])  # type: ignore[index]
    assert checked.results["metrics"]["box_iou"] == pytest.approx(results["metrics"]["box_iou"])  # type: ignore[index]


def test_a_mask_file_that_is_not_there_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = layout(tmp_path / "SID_Set")
    preds = tmp_path / "bad.jsonl"
    preds.write_text(json.dumps({"id": "tampered/t1.png", "mask": "nowhere.png"}) + "\n")
    monkeypatch.chdir(tmp_path)
    code = main(["score", "--task", "sid-set", "--data-root", str(data), "--predictions", str(preds)])
    err = capsys.readouterr().err.strip()
    assert (
        code == 2 and "\n" not in err and "line 1 (sample 'tampered/t1.png')" in err and "nowhere.png" in err
    )
