"""The localisation tasks on tiny copies of their published layouts: SID-Set (folders and masks),
SynthScars (LEGION's annotation JSON with polygons and explanations) and So-Fake-OOD's mask column; each
sample carries its truth region, and a malformed copy is one line naming the file."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.regions.overlap import TruthRoots
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.tasks.registry import DEFINITIONS


def read(task: str, root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    return import_object(spec.reader)(
        spec, root, {**spec.args, "cache_dir": str(root.parent / "cache"), **args}
    )


def image(path: Path, size: tuple[int, int] = (16, 12), value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)
    return path


def sid_set(root: Path, split: str = "test") -> Path:
    base = root / split
    image(base / "real" / "r1.jpg")
    image(base / "real" / "r2.jpeg")  # SIDA's loader globs *.jpg only: not read
    image(base / "full_synthetic" / "f1.png")
    for name in ("t1", "t2"):
        image(base / "tampered" / f"{name}.png")
    image(base / "masks" / "t1_mask.png", value=255)  # t2 has no mask: SIDA's loader leaves it out
    return root


def test_sid_set_reads_sidas_images_with_the_tampered_masks(tmp_path: Path) -> None:
    data = read("sid-set", sid_set(tmp_path / "SID_Set"))
    assert [(s.id, s.label, s.category, s.metadata["kind"]) for s in data.samples] == [
        ("real/r1.jpg", "real", "real", "real"),
        ("full_synthetic/f1.png", "fake", "full_synthetic", "full_synthetic"),
        ("tampered/t1.png", "fake", "tampered", "tampered"),
    ]
    assert data.samples[2].metadata["mask"] == "test/masks/t1_mask.png"  # relative to the data root
    assert "mask" not in data.samples[0].metadata
    assert data.notes["tampered_without_mask"] == 1 and data.notes["ignored_other_suffix"] == {"real": 1}
    split_root = read("sid-set", tmp_path / "SID_Set" / "test")  # the split folder itself
    assert [s.id for s in split_root.samples] == [s.id for s in data.samples]
    dropped = read("sid-set", tmp_path / "SID_Set", tampered="drop")
    assert [s.category for s in dropped.samples] == ["real", "full_synthetic"]


def test_sid_set_fingerprint_covers_the_masks(tmp_path: Path) -> None:
    root = sid_set(tmp_path / "SID_Set")
    before = load_task("sid-set", root, {"cache_dir": str(tmp_path / "cache")}).data_fingerprint
    noise = np.random.default_rng(0).integers(0, 2, (12, 16), dtype=np.uint8) * 255
    Image.fromarray(noise).save(root / "test" / "masks" / "t1_mask.png")  # another mask: another size on disk
    after = load_task("sid-set", root, {"cache_dir": str(tmp_path / "cache")}).data_fingerprint
    assert before != after


def test_sid_set_without_its_folders_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpotfakeError, match="no test/ folder"):
        read("sid-set", tmp_path / "empty")
    root = sid_set(tmp_path / "S")
    for path in (root / "test" / "full_synthetic").iterdir():
        path.unlink()
    (root / "test" / "full_synthetic").rmdir()
    with pytest.raises(SpotfakeError, match="folder not found: .*full_synthetic"):
        read("sid-set", root)


def synthscars(root: Path, records: list[Any], folder: str = "annoations") -> Path:
    image(root / "test" / "images" / "a.jpg", size=(40, 30))
    image(root / "test" / "images" / "b.png", size=(20, 10))
    (root / "test" / folder).mkdir(parents=True, exist_ok=True)
    (root / "test" / folder / "test.json").write_text(json.dumps(records))
    return root


RECORDS = [
    {
        "0": {
            "img_file_name": "data/SynthScars/test/images/a.jpg",
            "caption": '"The hand has six fingers and the sign is garbled."',
            "refs": [
                {"sentence": "six fingers", "segmentation": [[1, 1, 9, 1, 9, 9, 1, 9]]},
                {"sentence": "sign", "segmentation": [[20, 10, 30, 10, 30, 20], [0, 25, 3, 25, 3, 28]]},
            ],
        }
    },
    {"img_file_name": "b.png", "caption": "", "refs": []},
    {"img_file_name": "a.jpg", "caption": "Again.", "refs": [{"segmentation": [[0, 0, 4, 0, 4, 4]]}]},
]


def test_synthscars_reads_regions_explanations_and_sizes(tmp_path: Path) -> None:
    data = read("synthscars", synthscars(tmp_path / "SynthScars", RECORDS))
    assert [s.id for s in data.samples] == ["a.jpg", "b.png", "a.jpg#2"]
    first = data.samples[0]
    assert first.label == "fake" and first.references == (
        "The hand has six fingers and the sign is garbled.",
    )
    regions = json.loads(first.metadata["regions"])
    assert regions["size"] == [30, 40] and len(regions["refs"]) == 2 and len(regions["refs"][1]) == 2
    assert data.samples[1].references == () and json.loads(data.samples[1].metadata["regions"])["refs"] == []
    assert data.notes == {"split": "test", "images": 3, "refs": 3, "repeated_images": 1, "without_caption": 1}
    spelled = read("synthscars", synthscars(tmp_path / "other", RECORDS[1:2], folder="annotations"))
    assert [s.id for s in spelled.samples] == ["b.png"]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"img_file_name": "a.jpg"}, "expected a JSON list of records"),
        ([{"caption": "x"}], "record 0: expected a record with 'img_file_name'"),
        ([{"img_file_name": "zz.jpg", "refs": []}], "record 0: image 'zz.jpg' not found"),
        ([{"img_file_name": "a.jpg", "refs": {}}], "record 0: 'refs' must be a list"),
        (
            [{"img_file_name": "a.jpg", "refs": [{"segmentation": [[1, "2"]]}]}],
            "record 0 ref 0: 'segmentation'",
        ),
    ],
)
def test_synthscars_malformed_annotations_are_one_line(tmp_path: Path, records: Any, message: str) -> None:
    with pytest.raises(SpotfakeError) as info:
        read("synthscars", synthscars(tmp_path / "S", records))
    assert message in str(info.value) and "test.json" in str(info.value) and "\n" not in str(info.value)


def png(size: tuple[int, int], value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, format="PNG")
    return buffer.getvalue()


def test_sofake_ood_masks_become_the_tampered_truths(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "mask": datasets.Image(),
            "label": datasets.ClassLabel(names=["real", "tampered", "full_synthetic"]),
            "generator": datasets.Value("string"),
            "source": datasets.Value("string"),
            "filename": datasets.Value("string"),
        }
    )
    columns = {
        "image": [{"bytes": png((8, 8), k), "path": f"{k}.png"} for k in range(4)],
        "mask": [
            None,
            {"bytes": png((16, 16), 255), "path": "m1.png"},
            None,
            {"bytes": png((8, 8), 255), "path": "m3.png"},
        ],
        "label": [0, 1, 2, 1],
        "generator": ["", "flux", "gpt4o", "sd"],
        "source": ["reddit"] * 4,
        "filename": ["r.png", "t1.png", "f.png", "t2.png"],
    }
    root = tmp_path / "sofake"
    (root / "data").mkdir(parents=True)
    datasets.Dataset.from_dict(columns, features=features).to_parquet(
        str(root / "data" / "test-00000-of-00001.parquet")
    )
    data = read("sofake-ood-loc", root)
    by_id = {s.id: s for s in data.samples}
    assert set(by_id) == {"r.png", "t1.png", "f.png", "t2.png"}
    t1, t2 = by_id["t1.png"].metadata, by_id["t2.png"].metadata
    assert t1["mask"].startswith("cache:images/")  # written to the cache: relative to it, no machine path
    mask = np.array(Image.open(TruthRoots.of(root, root.parent / "cache").resolve(t1["mask"])))
    assert mask.shape == (16, 16) and (mask == 255).all()
    assert json.loads(t1["image_size"]) == [8, 8] and "image_size" not in t2  # 8x8 image, 16x16 mask
    assert "mask" not in by_id["r.png"].metadata and "mask" not in by_id["f.png"].metadata
    assert data.notes["tampered_without_mask"] == 0
    plain = read("sofake-ood", root)  # the detection task leaves the masks alone
    assert all("mask" not in s.metadata for s in plain.samples) and "tampered_without_mask" not in plain.notes
