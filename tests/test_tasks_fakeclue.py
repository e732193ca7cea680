"""The FakeClue JSON reader, on a small FakeClue-format download kept in the fixtures."""

from __future__ import annotations

import codecs
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.tasks.registry import DEFINITIONS

FIXTURE = Path(__file__).parent / "fixtures" / "tasks" / "fakeclue_mini"
QUESTION = "Does the image looks real/fake?"


def read(root: Path | None, prompt: str | None = None, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "fakeclue.yaml")
    if prompt is not None:
        spec = type(spec)(**{**spec.__dict__, "prompt": prompt})
    return import_object(spec.reader)(spec, root, {**spec.args, **args})


def records() -> list[dict[str, Any]]:
    return json.loads((FIXTURE / "data_json" / "test.json").read_text(encoding="utf-8"))


@pytest.fixture
def download(tmp_path: Path) -> Path:
    """A writable copy of the fixture download."""
    root = tmp_path / "FakeClue"
    shutil.copytree(FIXTURE, root)
    return root


def write(root: Path, data: Any, name: str = "test.json") -> Path:
    path = root / "data_json" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_records_become_samples_with_label_prompt_reference_category_and_source() -> None:
    data = read(FIXTURE)
    raw = records()
    assert [s.id for s in data.samples] == [r["image"] for r in raw]
    assert [s.label for s in data.samples] == ["fake" if r["label"] == 0 else "real" for r in raw]
    assert [s.category for s in data.samples] == [r["cate"] for r in raw]
    assert [s.references for s in data.samples] == [(r["conversations"][1]["value"],) for r in raw]
    assert {s.prompt for s in data.samples} == {QUESTION}
    assert [s.metadata["source"] for s in data.samples] == [r["image"].split("/")[0] for r in raw]
    assert data.files == [FIXTURE.absolute() / "data_json" / "test.json"]


def test_images_are_absolute_paths_under_the_split_folder() -> None:
    for sample in read(FIXTURE).samples:
        (image,) = sample.images
        assert image.is_absolute()
        assert image == FIXTURE.absolute() / "test" / sample.id
        assert image.is_file()


def test_task_is_registered_and_fingerprints_the_annotation_file(download: Path) -> None:
    first = load_task("fakeclue", download)
    assert len(first.samples) == 8
    assert load_task("fakeclue", download).data_fingerprint == first.data_fingerprint
    changed = records()
    changed[0]["label"] = 1
    write(download, changed)
    assert load_task("fakeclue", download).data_fingerprint != first.data_fingerprint


def test_missing_images_are_left_to_the_runner(download: Path) -> None:
    shutil.rmtree(download / "test")
    data = read(download)
    assert len(data.samples) == 8
    assert not any(s.images[0].exists() for s in data.samples)


def test_split_annotations_and_image_dir_can_be_overridden(download: Path, tmp_path: Path) -> None:
    write(download, records()[:3], "val.json")
    val = read(download, split="val")
    assert len(val.samples) == 3
    assert val.samples[0].images[0] == download / "val" / records()[0]["image"]
    elsewhere = tmp_path / "ann.json"
    elsewhere.write_text(json.dumps(records()[:2]), encoding="utf-8")
    custom = read(download, annotations=str(elsewhere), image_dir=str(tmp_path / "imgs"))
    assert [s.images[0] for s in custom.samples] == [tmp_path / "imgs" / r["image"] for r in records()[:2]]
    assert custom.files == [elsewhere]


def test_a_prompt_in_the_task_definition_replaces_the_records_question() -> None:
    assert {s.prompt for s in read(FIXTURE, prompt="Real or fake?").samples} == {"Real or fake?"}


def test_a_utf16_file_with_bom_is_read_like_utf8(download: Path) -> None:
    path = download / "data_json" / "test.json"
    path.write_bytes(codecs.BOM_UTF16_LE + path.read_text(encoding="utf-8").encode("utf-16-le"))
    assert [s.id for s in read(download).samples] == [r["image"] for r in records()]


def test_paths_with_one_component_have_no_source() -> None:
    from spotfake.tasks.readers.fakeclue import source_of

    assert source_of("x.png") is None
    assert source_of("ff++/fake/x.png") == "ff++"
    assert source_of("./doc/real/x.png") == "doc"


def test_missing_data_root_and_missing_annotations_name_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="fakeclue needs --data-root: a FakeClue download"):
        read(None)
    with pytest.raises(SpotfakeError, match=f"data root not found: {tmp_path / 'missing'}"):
        read(tmp_path / "missing")
    expected = tmp_path / "data_json" / "test.json"
    with pytest.raises(SpotfakeError, match=f"annotation file not found: {expected} .*split 'test'"):
        read(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"image": "../outside.png"}, r"record \[2\]: image path '../outside.png' escapes the data root"),
        ({"image": "/etc/passwd"}, r"record \[2\]: absolute image path '/etc/passwd' refused"),
        ({"label": 2}, r"record \[2\] \(image '.*'\): label must be 0 \(fake\) or 1 \(real\), got 2"),
        ({"label": True}, r"record \[2\] \(image '.*'\): field 'label' must be int/str, got True"),
        (
            {"conversations": [{"from": "human", "value": "<image>?"}]},
            r"record \[2\].*needs a human turn followed",
        ),
        ({"conversations": "hi"}, r"record \[2\].*'conversations' must be a list"),
        ({"cate": 5}, r"record \[2\].*'cate' must be a string"),
    ],
)
def test_bad_records_are_refused_naming_file_and_record(
    download: Path, change: dict[str, Any], message: str
) -> None:
    data = records()
    data[2].update(change)
    path = write(download, data)
    with pytest.raises(SpotfakeError, match=message) as info:
        read(download)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_record_without_image_is_refused(download: Path) -> None:
    data = records()
    del data[4]["image"]
    write(download, data)
    with pytest.raises(SpotfakeError, match=r"record \[4\]: missing field 'image'"):
        read(download)


def test_duplicate_images_are_refused_naming_both_records(download: Path) -> None:
    data = records()
    data[5]["image"] = data[1]["image"]
    write(download, data)
    with pytest.raises(SpotfakeError, match=r"record \[5\]: image '.*' already used by record \[1\]"):
        read(download)


def test_dot_slash_and_plain_paths_are_one_id(download: Path) -> None:
    data = records()
    image = data[1]["image"]
    data[1]["image"] = f"./{image}"
    write(download, data)
    assert read(download).samples[1].id == image
    data[5]["image"] = image
    write(download, data)
    with pytest.raises(
        SpotfakeError, match=rf"record \[5\]: image '{re.escape(image)}' already used by record \[1\]"
    ):
        read(download)


def test_malformed_and_wrongly_shaped_files_are_refused(download: Path) -> None:
    path = download / "data_json" / "test.json"
    path.write_text(path.read_text(encoding="utf-8")[:-30], encoding="utf-8")
    with pytest.raises(SpotfakeError, match=f"{path}: malformed JSON at line"):
        read(download)
    write(download, {"image": "x.png"})
    with pytest.raises(SpotfakeError, match="expected a JSON list of records, got dict"):
        read(download)
    write(download, [])
    with pytest.raises(SpotfakeError, match="no records"):
        read(download)


def test_a_typo_in_a_task_argument_is_an_error() -> None:
    with pytest.raises(SpotfakeError, match="unknown task argument.*splt"):
        read(FIXTURE, splt="val")


def test_extra_text_fields_become_metadata_for_breakdowns(tmp_path: Path) -> None:
    from spotfake.harness.task import TaskSpec
    from spotfake.tasks.readers.fakeclue import read_fakeclue

    root = tmp_path / "fc"
    (root / "data_json").mkdir(parents=True)
    record = {
        "image": "gen/fake/a.png",
        "label": 0,
        "cate": "animal",
        "generator": "vae",
        "width": 64,
        "conversations": [
            {"from": "human", "value": "<image>Q?"},
            {"from": "gpt", "value": "This is a fake image."},
        ],
    }
    (root / "data_json" / "test.json").write_text(json.dumps([record]))
    spec = TaskSpec(
        name="x", version="1", description="x", reader="spotfake.tasks.readers.fakeclue:read_fakeclue"
    )
    sample = read_fakeclue(spec, root, {"split": "test"}).samples[0]
    assert sample.metadata == {"source": "gen", "generator": "vae"}
