"""COCO RLE masks: spotfake's encoder and decoder agree with pycocotools on random masks, both count forms
decode, and every malformed object (a bad total, a negative run, a stray character, a cut string, an
oversized mask) is refused before decoding, as one line through ``spotfake score`` and submissions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.record_json import record_from_json, response_from_json
from spotfake.harness.regions.rle import RleError, check_rle, counts_string, decode, encode, string_counts
from spotfake.harness.types import Record

mask_api = pytest.importorskip("pycocotools.mask")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools' numpy 2 notice


def random_masks(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        h, w = (int(v) for v in rng.integers(1, 48, 2))
        mask = rng.random((h, w)) < rng.random()
        if k % 9 == 0:
            mask[:] = k % 2 == 0  # all background / all foreground
        out.append(mask)
    out.append(np.zeros((300, 400), dtype=bool))  # long runs: counts past one 5-bit group
    out[-1][100:250, 20:380] = True
    return out


def test_encoding_matches_pycocotools_and_decodes_back() -> None:
    for mask in random_masks(0, 200):
        ours = encode(mask)
        theirs = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
        assert ours == {"size": list(mask.shape), "counts": theirs["counts"].decode("ascii")}
        assert decode(ours).dtype == bool and np.array_equal(decode(ours), mask)
        as_bytes = {"size": ours["size"], "counts": str(ours["counts"]).encode("ascii")}
        assert np.array_equal(mask_api.decode(as_bytes).astype(bool), mask)


def test_uncompressed_counts_decode_like_pycocotools() -> None:
    for mask in random_masks(1, 50):
        runs = string_counts(str(encode(mask)["counts"]))
        h, w = mask.shape
        theirs = mask_api.decode(mask_api.frPyObjects({"size": [h, w], "counts": runs}, h, w)).astype(bool)
        assert np.array_equal(decode({"size": [h, w], "counts": runs}), theirs)
        assert counts_string(runs) == encode(mask)["counts"]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"size": [2, 2], "counts": [1, 2]}, "add up to 3 pixels, but 'size' 2x2 has 4"),
        ({"size": [2, 2], "counts": [5]}, "add up to 5 pixels"),
        ({"size": [2, 2], "counts": [1, -1, 4]}, "list of integers >= 0"),
        ({"size": [2, 2], "counts": [1, True, 2]}, "list of integers >= 0"),
        ({"size": [2, 2], "counts": "0 4"}, "not a COCO RLE character"),
        ({"size": [2, 2], "counts": "1P"}, "ends inside a count"),
        ({"size": [2, 2], "counts": "0000"}, "add up to 0 pixels"),
        ({"size": [4, 4], "counts": "06N0"}, "negative run"),
        ({"size": [0, 4], "counts": []}, "positive integers"),
        ({"size": [2], "counts": []}, "'size' must be [height, width]"),
        ({"size": [100_000, 100_000], "counts": [10**10]}, "over the limit"),
        ({"size": [2, 2]}, "COCO RLE"),
        ({"size": [2, 2], "counts": 4}, "COCO string or a list"),
        ([1, 2], "COCO RLE"),
    ],
)
def test_malformed_rle_is_refused_with_what_is_wrong(obj: object, message: str) -> None:
    with pytest.raises(RleError) as info:
        check_rle(obj)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_count_that_never_ends_is_refused() -> None:
    with pytest.raises(RleError, match="too long"):
        check_rle({"size": [2, 2], "counts": "o" * 20 + "0"})


def test_masks_and_boxes_in_predictions_and_records_are_checked_per_field() -> None:
    good = encode(np.eye(3, dtype=bool))
    response = response_from_json(
        {"response": "fake", "mask": good, "boxes": [[0, 1, 2, 3]]}, where="p.jsonl line 1"
    )
    assert response.mask == good and response.boxes == [[0.0, 1.0, 2.0, 3.0]]
    record = record_from_json({"id": "a", "label": "fake", "mask": good}, where="samples.jsonl line 1")
    assert record.mask == good and "mask" in record.to_json() and "boxes" not in record.to_json()
    assert record_from_json(json.loads(json.dumps(record.to_json())), where="x") == record
    for row, message in [
        ({"mask": {"size": [2, 2], "counts": [3]}}, "'mask': 'counts' add up to 3 pixels"),
        ({"mask": "masks/a.png"}, "a mask must be an object"),
        ({"boxes": [[0, 1, 2]]}, "'boxes' must be a list of at most 1000 [x0, y0, x1, y1] boxes"),
        ({"boxes": [[0, 1, 2, float("nan")]]}, "'boxes' must be"),
        ({"boxes": [[0, 0, 1, 1]] * 1001}, "'boxes' must be"),
    ]:
        with pytest.raises(SpotfakeError) as info:
            response_from_json({"response": "fake", **row}, where="p.jsonl line 7 (sample 'a')")
        assert str(info.value).startswith("p.jsonl line 7 (sample 'a'): ") and message in str(info.value)


def test_a_record_without_mask_or_boxes_is_written_as_before() -> None:
    line = Record(id="x", label="real").to_json()
    assert "mask" not in line and "boxes" not in line
