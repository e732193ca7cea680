"""Tasks published as Hugging Face parquet: Community Forensics, So-Fake-OOD (v1/v2 label maps) and OpenFake
(parquet and its experiments' CSVs, evaluation over time). Each test writes a tiny copy in the published
schema and checks counts, labels, categories, and the one line a contradictory or ambiguous copy gives."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

datasets = pytest.importorskip("datasets")

from spotfake.harness.errors import SpotfakeError  # noqa: E402
from spotfake.harness.registry import import_object  # noqa: E402
from spotfake.harness.task import TaskData, load_spec_file  # noqa: E402
from spotfake.tasks.registry import DEFINITIONS  # noqa: E402


def png(shade: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (shade, shade, shade)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_parquet(root: Path, split: str, columns: dict[str, list[Any]], features: Any = None) -> Path:
    ds = datasets.Dataset.from_dict(columns, features=features)
    (root / "data").mkdir(parents=True, exist_ok=True)
    ds.to_parquet(str(root / "data" / f"{split}-00000-of-00001.parquet"))
    return root


def read(task: str, root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    return import_object(spec.reader)(
        spec, root, {**spec.args, "cache_dir": str(root.parent / "cache"), **args}
    )


def one_line(info: pytest.ExceptionInfo[SpotfakeError]) -> str:
    assert "\n" not in str(info.value)
    return str(info.value)


def commfor(root: Path) -> Path:
    return write_parquet(
        root,
        "PublicEval",
        {
            "image_name": ["00000162.png", "00000162.png", "000001.jpg"],
            "format": ["PNG", "PNG", "JPEG"],
            "image_data": [png(1), png(2), png(3)],
            "model_name": ["0xJustin/Dungeons-and-Diffusion", "runwayml/stable-diffusion-v1-5", ""],
            "real_source": ["LAION", "COCO", "COCO"],
            "subset": ["PublicEval"] * 3,
            "label": [1, 1, 0],
        },
    )


def test_commfor_generators_reals_and_embedded_images(tmp_path: Path) -> None:
    data = read("commfor", commfor(tmp_path / "cf"), data_files="data/{split}-*.parquet")
    assert [(s.id, s.label, s.category) for s in data.samples] == [
        ("0xJustin/Dungeons-and-Diffusion/00000162.png", "fake", "0xJustin/Dungeons-and-Diffusion"),
        ("runwayml/stable-diffusion-v1-5/00000162.png", "fake", "runwayml/stable-diffusion-v1-5"),
        ("real/000001.jpg", "real", "real"),
    ]
    assert data.samples[2].metadata == {"real_source": "COCO", "subset": "PublicEval"}
    assert data.samples[0].images[0].read_bytes() == png(1) and data.samples[0].images[0].suffix == ".png"
    assert data.notes["label_map"] == "0:real|1:fake"
    assert data.notes["count_differences"] == ["3 rows, published 51836"]


def test_commfor_a_label_outside_the_map_is_refused(tmp_path: Path) -> None:
    root = write_parquet(
        tmp_path / "cf",
        "PublicEval",
        {"image_data": [png(1)], "model_name": ["x"], "label": [2], "image_name": ["a.png"]},
    )
    with pytest.raises(SpotfakeError) as info:
        read("commfor", root, data_files="data/{split}-*.parquet")
    assert "label 2 is not in the declared label map" in one_line(info) and "row 0" in str(info.value)


V1 = ["full_synthetic", "real", "tampered"]
V2 = ["real", "tampered", "full_synthetic"]


def sofake(root: Path, names: list[str] | None, *, v2_columns: bool) -> Path:
    columns: dict[str, list[Any]] = {
        "image": [{"bytes": png(k), "path": f"{k}.png"} for k in range(3)],
        "label": [0, 1, 2],
        "filename": ["f0.png", "f1.png", "f2.png"],
    }
    spec = {"image": datasets.Image(), "filename": datasets.Value("string")}
    spec["label"] = datasets.ClassLabel(names=names) if names else datasets.Value("int64")
    if v2_columns:
        columns.update(generator=["", "flux", "gpt4o"], source=["reddit", "reddit", "reddit"])
        spec.update(generator=datasets.Value("string"), source=datasets.Value("string"))
    return write_parquet(root, "test", columns, datasets.Features(spec))


def test_sofake_v1_and_v2_are_read_with_their_own_maps(tmp_path: Path) -> None:
    v1 = read("sofake-ood", sofake(tmp_path / "v1", V1, v2_columns=False))
    assert v1.notes["version"] == "v1" and v1.notes["label_map"] == "0:fake|1:real|2:fake"
    assert v1.notes["count_differences"] == ["3 rows, published 100000"]
    assert [(s.id, s.label, s.category, s.metadata["kind"]) for s in v1.samples] == [
        ("f0.png", "fake", "full_synthetic", "full_synthetic"),
        ("f1.png", "real", "real", "real"),
        ("f2.png", "fake", "tampered", "tampered"),
    ]
    v2 = read("sofake-ood", sofake(tmp_path / "v2", V2, v2_columns=True))
    assert v2.notes["version"] == "v2"
    assert [(s.label, s.category, s.metadata["kind"]) for s in v2.samples] == [
        ("real", "real", "real"),
        ("fake", "flux", "tampered"),
        ("fake", "gpt4o", "full_synthetic"),
    ]
    assert [s.label for s in read("sofake-ood", tmp_path / "v2", tampered="drop").samples] == ["real", "fake"]
    plain_v2 = read("sofake-ood", sofake(tmp_path / "plain2", None, v2_columns=True))  # columns say v2
    assert plain_v2.notes["version"] == "v2" and plain_v2.samples[0].label == "real"


def test_sofake_a_version_that_cannot_be_told_or_contradicts_the_data_is_refused(tmp_path: Path) -> None:
    plain = sofake(tmp_path / "plain", None, v2_columns=False)
    with pytest.raises(SpotfakeError) as info:
        read("sofake-ood", plain)
    assert "cannot tell So-Fake-OOD v1" in one_line(info) and "version=v1 or version=v2" in str(info.value)
    assert read("sofake-ood", plain, version="v1").samples[1].label == "real"  # declared by the user
    with pytest.raises(SpotfakeError) as info:
        read("sofake-ood", sofake(tmp_path / "v1", V1, v2_columns=False), version="v2")
    assert "version=v2 was declared, but the data is So-Fake-OOD v1" in one_line(info)
    with pytest.raises(SpotfakeError, match="neither So-Fake-OOD v1"):
        read("sofake-ood", sofake(tmp_path / "odd", ["a", "b", "c"], v2_columns=False))


def openfake_parquet(root: Path) -> Path:
    return write_parquet(
        root,
        "test",
        {
            "image": [{"bytes": png(k), "path": f"{k}.png"} for k in range(5)],
            "prompt": ["p"] * 5,
            "label": ["real", "fake", "fake", "fake", "real"],
            "model": ["real", "sdxl", "flux.1-dev", "gpt-image-1", "real"],
            "release_date": ["", "2023-07-26", "2024-08-01", "unknown", ""],
        },
    )


def test_openfake_parquet_categories_and_periods(tmp_path: Path) -> None:
    data = read("openfake", openfake_parquet(tmp_path / "of"))
    assert Counter((s.category, s.label) for s in data.samples) == {
        ("real", "real"): 2, ("sdxl", "fake"): 1, ("flux.1-dev", "fake"): 1, ("gpt-image-1", "fake"): 1,
    }  # fmt: skip
    assert [s.metadata.get("period") for s in data.samples] == [None, "2023-Q3", "2024-Q3", None, None]


def test_openfake_train_until_keeps_reals_and_later_generators(tmp_path: Path) -> None:
    root = openfake_parquet(tmp_path / "of")
    later = read("openfake", root, train_until="2024-01")
    assert [(s.category, s.label) for s in later.samples] == [
        ("real", "real"),
        ("flux.1-dev", "fake"),
        ("real", "real"),
    ]
    assert later.notes["dropped_fakes"] == {"released_until_cutoff": 1, "no_release_date": 1}
    with pytest.raises(
        SpotfakeError, match="no fake image of a generator released after train_until=2024-08"
    ):
        read("openfake", root, train_until="2024-08")
    with pytest.raises(SpotfakeError, match="YYYY-MM"):
        read("openfake", root, train_until="2024")


def test_openfake_csv_split_files_and_their_labels(tmp_path: Path) -> None:
    root = tmp_path / "splits"
    (root / "img").mkdir(parents=True)
    (root / "of_test.csv").write_text(
        "file_name,prompt,label,model,type,release_date\n"
        "img/a.jpg,,real,laion,real,\n"
        "img/b.png,a cat,fake,midjourney-7,image,2025-04-03\n"
    )
    data = read("openfake", root, csv="of_test.csv")
    assert [(s.id, s.label, s.category, s.metadata.get("period")) for s in data.samples] == [
        ("img/a.jpg", "real", "real", None),
        ("img/b.png", "fake", "midjourney-7", "2025-Q2"),
    ]
    (root / "bad.csv").write_text("file_name,prompt,label,model\nimg/a.jpg,,0,laion\n")
    with pytest.raises(SpotfakeError) as info:
        read("openfake", root, csv="bad.csv")
    assert "label '0' is not in the declared label map" in one_line(info) and "bad.csv row 2" in str(
        info.value
    )


def test_openfake_csv_absolute_paths_stay_inside_the_data_root(tmp_path: Path) -> None:
    root = tmp_path / "splits"
    (root / "img").mkdir(parents=True)
    inside, climbing = root / "img" / "a.jpg", f"{root}/img/../../outside.jpg"
    (root / "ok.csv").write_text(f"file_name,prompt,label,model\n{inside},,real,laion\n")
    assert [s.images for s in read("openfake", root, csv="ok.csv").samples] == [(inside,)]
    (root / "up.csv").write_text(f"file_name,prompt,label,model\n{climbing},,real,laion\n")
    with pytest.raises(SpotfakeError) as info:
        read("openfake", root, csv="up.csv")
    assert "up.csv row 2" in one_line(info) and "escapes the data root" in str(info.value)


def test_a_folder_of_images_is_not_read_as_a_table(tmp_path: Path) -> None:
    (tmp_path / "imgs" / "0_real").mkdir(parents=True)
    (tmp_path / "imgs" / "0_real" / "a.png").write_bytes(png(1))
    with pytest.raises(SpotfakeError) as info:
        read("commfor", tmp_path / "imgs")
    assert "no parquet, arrow, JSON or CSV files below" in one_line(info)
