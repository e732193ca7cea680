"""Masks from images at the stated threshold (every mode a mask file comes in), resizing to the truth,
boxes and polygons rasterised, boxes of regions, and best-match box IoU against brute-force numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.regions import masks as m


def test_soft_masks_are_thresholded_above_one_half_in_every_mode(tmp_path: Path) -> None:
    values = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    expected = np.array([[False, False, True, True]])
    assert np.array_equal(m.mask_from_image(Image.fromarray(values)), expected)  # L
    assert np.array_equal(m.mask_from_image(Image.fromarray(values).convert("RGB")), expected)
    assert np.array_equal(m.mask_from_image(Image.fromarray(values).convert("LA")), expected)
    sixteen = Image.fromarray(np.array([[0, 32767, 32768, 65535]], dtype=np.uint16))
    sixteen.save(tmp_path / "m16.png")
    assert np.array_equal(m.read_mask(tmp_path / "m16.png", sample_id="s", what="t"), expected)
    floats = Image.fromarray(np.array([[0.0, 0.5, 0.51, 1.0]], dtype=np.float32))
    assert np.array_equal(m.mask_from_image(floats), expected)
    assert np.array_equal(
        m.mask_from_image(Image.fromarray(values).convert("1")), np.array([[0, 0, 1, 1]]) == 1
    )
    assert np.array_equal(m.mask_from_image(Image.fromarray(values), threshold=0.9), values > 0.9 * 255)


def test_a_zero_one_label_map_is_read_as_labels_not_as_dark_grey(tmp_path: Path) -> None:
    labels = np.array([[0, 1], [1, 0]], dtype=np.uint8)
    Image.fromarray(labels).save(tmp_path / "labels.png")
    assert np.array_equal(m.read_mask(tmp_path / "labels.png", sample_id="s", what="t"), labels == 1)


def test_an_unreadable_mask_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    for path in (tmp_path / "bad.png", tmp_path / "missing.png", tmp_path):
        with pytest.raises(SpotfakeError) as info:
            m.read_mask(path, sample_id="s1", what="p.jsonl line 3")
        assert str(info.value).startswith("p.jsonl line 3: mask ") and str(path) in str(info.value)


def test_a_mask_at_another_scale_is_resized_and_another_shape_refused() -> None:
    small = np.zeros((4, 6), dtype=bool)
    small[1:3, 2:5] = True
    big = m.fit_to(small, 8, 12, what="w")
    assert np.array_equal(big, np.kron(small, np.ones((2, 2), dtype=bool)))
    assert m.fit_to(small, 4, 6, what="w") is small
    with pytest.raises(SpotfakeError, match="6x4 .* but the truth is 4x6: another aspect ratio"):
        m.fit_to(small, 6, 4, what="the predicted mask of sample 'a'")


def test_boxes_cover_the_pixels_between_their_rounded_edges() -> None:
    mask = m.boxes_mask([[1, 2, 4, 3], [6.6, 0, 5.4, 1.49]], 4, 8)
    expected = np.zeros((4, 8), dtype=bool)
    expected[2:3, 1:4] = True
    expected[0:1, 5:7] = True  # reversed corners swapped; 5.4 -> 5, 6.6 -> 7, 1.49 -> 1
    assert np.array_equal(mask, expected)
    assert not m.boxes_mask([[-5, -5, -1, -1], [9, 9, 20, 20]], 4, 8).any()  # outside: cut off


def test_polygons_are_filled_with_their_outline() -> None:
    square = [2.9, 3, 7, 3, 7, 8, 2, 8]  # 2.9 truncates to 2, as LEGION's astype(int32)
    expected = np.zeros((10, 10), dtype=bool)
    expected[3:9, 2:8] = True
    assert np.array_equal(m.polygons_mask([square], 10, 10), expected)
    assert not m.polygons_mask([[1, 1, 5, 5]], 10, 10).any()  # two points are not a region
    assert m.mask_box(m.polygons_mask([square], 10, 10)) == (2.0, 3.0, 8.0, 9.0)
    assert m.mask_box(np.zeros((3, 3), dtype=bool)) is None


def test_regions_become_boxes_with_eight_connectivity() -> None:
    mask = np.zeros((6, 6), dtype=bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one region
    mask[3:5, 2:6] = True
    assert sorted(m.region_boxes(mask)) == [(0.0, 0.0, 2.0, 2.0), (2.0, 3.0, 6.0, 5.0)]
    assert m.region_boxes(np.zeros((3, 3), dtype=bool)) == []


def brute_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def test_box_iou_and_best_match_agree_with_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        truth = [m.ordered(rng.uniform(0, 50, 4)) for _ in range(int(rng.integers(1, 4)))]
        pred = [m.ordered(rng.uniform(0, 50, 4)) for _ in range(int(rng.integers(1, 4)))]
        matrix = m.box_iou_matrix(truth, pred)
        assert matrix == pytest.approx(np.array([[brute_iou(t, p) for p in pred] for t in truth]))
        expected = np.mean([max(brute_iou(t, p) for p in pred) for t in truth])
        assert m.best_match_iou(truth, pred) == pytest.approx(expected)
    assert m.best_match_iou([(0, 0, 2, 2)], []) == 0.0
    assert m.best_match_iou([], []) == 1.0 and m.best_match_iou([], [(0, 0, 1, 1)]) == 0.0
