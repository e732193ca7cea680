"""FakeClue through Hugging Face `datasets`: small datasets built and saved here, read back by the reader."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file
from spotfake.tasks.registry import DEFINITIONS

datasets = pytest.importorskip("datasets")
Image = pytest.importorskip("PIL.Image")

FIXTURE = Path(__file__).parent / "fixtures" / "tasks" / "fakeclue_mini"
QUESTION = "<image>Does the image looks real/fake?"


def read(root: Path | None, cache: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "fakeclue-hf.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, "cache_dir": str(cache), **args})


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


def turns(answer: str) -> list[dict[str, str]]:
    return [{"from": "human", "value": QUESTION}, {"from": "gpt", "value": answer}]


def rows_with_bytes() -> dict[str, list[Any]]:
    return {
        "id": ["img-0", "img-1", "img-2"],
        "image": [
            {"bytes": png((255, 0, 0)), "path": "a.png"},
            {"bytes": png((0, 255, 0)), "path": "b.png"},
            {"bytes": png((0, 0, 255)), "path": "c.jpg"},
        ],
        "label": [0, 1, 0],
        "cate": ["animal", "doc", "satellite"],
        "conversations": [
            turns("This is a fake image. Fur melts."),
            turns("This is a real image."),
            turns("This is a fake image. Roads end."),
        ],
    }


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_a_saved_dataset_with_embedded_images(tmp_path: Path, cache: Path) -> None:
    rows = rows_with_bytes()
    ds = datasets.Dataset.from_dict(rows).cast_column("image", datasets.Image())
    ds.save_to_disk(str(tmp_path / "saved"))
    data = read(tmp_path / "saved", cache)
    assert [(s.id, s.label, s.category) for s in data.samples] == [
        ("img-0", "fake", "animal"),
        ("img-1", "real", "doc"),
        ("img-2", "fake", "satellite"),
    ]
    assert [s.references for s in data.samples] == [
        ("This is a fake image. Fur melts.",),
        ("This is a real image.",),
        ("This is a fake image. Roads end.",),
    ]
    assert {s.prompt for s in data.samples} == {"Does the image looks real/fake?"}
    for sample, image in zip(data.samples, rows["image"], strict=True):
        (path,) = sample.images
        assert path.is_relative_to(cache / "images")
        assert path.read_bytes() == image["bytes"]
    assert data.files and all(
        p.suffix == ".arrow" and p.is_relative_to(tmp_path / "saved") for p in data.files
    )
    again = read(tmp_path / "saved", cache)
    assert [s.images for s in again.samples] == [s.images for s in data.samples]


def test_a_saved_dataset_dict_picks_the_split(tmp_path: Path, cache: Path) -> None:
    full = datasets.Dataset.from_dict(rows_with_bytes()).cast_column("image", datasets.Image())
    datasets.DatasetDict({"train": full, "test": full.select([1])}).save_to_disk(str(tmp_path / "dd"))
    assert [s.id for s in read(tmp_path / "dd", cache).samples] == ["img-1"]
    assert len(read(tmp_path / "dd", cache, split="train").samples) == 3
    with pytest.raises(SpotfakeError, match=r"no split 'validation' \(splits: train, test\)"):
        read(tmp_path / "dd", cache, split="validation")


def test_a_parquet_folder_with_image_paths_in_fakeclue_layout(tmp_path: Path, cache: Path) -> None:
    records = json.loads((FIXTURE / "data_json" / "test.json").read_text(encoding="utf-8"))
    root = tmp_path / "pq"
    (root / "data").mkdir(parents=True)
    datasets.Dataset.from_list(records).to_parquet(str(root / "data" / "test-00000-of-00001.parquet"))
    (root / "test").symlink_to(FIXTURE / "test", target_is_directory=True)
    data = read(root, cache, cache_dir=str(cache))
    assert [s.id for s in data.samples] == [r["image"] for r in records]
    assert [s.label for s in data.samples] == ["fake" if r["label"] == 0 else "real" for r in records]
    assert [s.metadata["source"] for s in data.samples] == [r["image"].split("/")[0] for r in records]
    assert all(s.images == (root / "test" / s.id,) and s.images[0].is_file() for s in data.samples)
    assert data.files == [root / "data" / "test-00000-of-00001.parquet"]


def test_an_imagefolder_with_metadata_keeps_the_files_in_place(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "if"
    (root / "test" / "doc" / "fake").mkdir(parents=True)
    (root / "test" / "doc" / "fake" / "x.png").write_bytes(png((1, 2, 3)))
    meta = {
        "file_name": "doc/fake/x.png",
        "label": 0,
        "cate": "doc",
        "conversations": turns("This is a fake image."),
    }
    (root / "test" / "metadata.jsonl").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    (sample,) = read(root, cache, cache_dir=str(cache)).samples
    assert sample.images == (root / "test" / "doc" / "fake" / "x.png",)
    assert (sample.id, sample.label, sample.metadata) == ("doc/fake/x.png", "fake", {"source": "doc"})


def test_class_label_names_decide_the_label(tmp_path: Path, cache: Path) -> None:
    rows = rows_with_bytes()
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=["real", "fake"]),
            "cate": datasets.Value("string"),
            "conversations": datasets.List(
                {"from": datasets.Value("string"), "value": datasets.Value("string")}
            ),
        }
    )
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(tmp_path / "cl"))
    assert [s.label for s in read(tmp_path / "cl", cache).samples] == ["real", "fake", "real"]


def test_ids_fall_back_to_image_paths_then_to_row_numbers(tmp_path: Path, cache: Path) -> None:
    rows = rows_with_bytes()
    del rows["id"]
    datasets.Dataset.from_dict(rows).cast_column("image", datasets.Image()).save_to_disk(str(tmp_path / "a"))
    assert [s.id for s in read(tmp_path / "a", cache).samples] == ["a.png", "b.png", "c.jpg"]
    rows["image"][1]["path"] = "a.png"
    datasets.Dataset.from_dict(rows).cast_column("image", datasets.Image()).save_to_disk(str(tmp_path / "b"))
    assert [s.id for s in read(tmp_path / "b", cache).samples] == ["test/0", "test/1", "test/2"]
    assert [s.id for s in read(tmp_path / "b", cache, id_column="cate").samples] == [
        "animal",
        "doc",
        "satellite",
    ]


def test_bad_datasets_are_refused(tmp_path: Path, cache: Path) -> None:
    records = json.loads((FIXTURE / "data_json" / "test.json").read_text(encoding="utf-8"))
    records[1]["image"] = "../../etc/passwd"
    datasets.Dataset.from_list(records).save_to_disk(str(tmp_path / "esc"))
    with pytest.raises(SpotfakeError, match=r"row 1: image path '../../etc/passwd' escapes the data root"):
        read(tmp_path / "esc", cache)
    records[1]["image"] = "doc/real/x.png"
    records[1]["label"] = 7
    datasets.Dataset.from_list(records).save_to_disk(str(tmp_path / "lab"))
    with pytest.raises(
        SpotfakeError,
        match=r"row 1 \(image 'doc/real/x.png'\): label must be 0 \(fake\) or 1 \(real\), got 7",
    ):
        read(tmp_path / "lab", cache)
    with pytest.raises(SpotfakeError, match=r"no column 'picture' \(columns: image, label"):
        read(tmp_path / "lab", cache, image_column="picture")
    with pytest.raises(SpotfakeError, match="no column 'nope' for id_column"):
        read(tmp_path / "lab", cache, id_column="nope")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(
        SpotfakeError, match=r"no parquet, arrow, JSON or CSV files below .*junk \(expected a Hugging"
    ):
        read(tmp_path / "junk", cache)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "test.parquet").write_bytes(b"not parquet")
    with pytest.raises(SpotfakeError, match="cannot read split 'test' of a Hugging Face dataset at .*broken"):
        read(tmp_path / "broken", cache)


def test_an_absolute_image_path_outside_the_root_is_refused(tmp_path: Path, cache: Path) -> None:
    rows = rows_with_bytes()
    rows["image"] = [{"bytes": None, "path": "/etc/passwd"}] * 3
    datasets.Dataset.from_dict(rows).cast_column("image", datasets.Image()).to_parquet(
        str(tmp_path / "p" / "test.parquet")
    )
    with pytest.raises(SpotfakeError, match=r"row 0: image path '/etc/passwd' is outside the data root"):
        read(tmp_path / "p", cache)


def test_the_hub_offline_is_a_clear_error(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(
        SpotfakeError,
        match=r"cannot load 'lingcco/FakeClue' split 'test' from the Hugging Face Hub .*pass --data-root",
    ):
        read(None, cache)
    with pytest.raises(SpotfakeError, match="needs --data-root .* or a hub_id"):
        read(None, cache, hub_id="")
