"""Shared reader helpers: path safety, encodings, JSON errors, task arguments."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.task import TaskSpec
from spotfake.tasks.readers.common import (
    arg_path,
    check_args,
    read_csv_rows,
    read_json_file,
    relative_id,
    require_data_root,
    safe_join,
    strip_image_tokens,
)

SPEC = TaskSpec(name="demo-task", version="1", description="d", reader="x:y")
DATA = [{"image": "a/ü.png", "label": 0}]


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("genimage/fake/x.png", "genimage/fake/x.png"),
        ("./a/../b/x.png", "b/x.png"),
        ("ff++\\fake\\x.png", "ff++/fake/x.png"),
        ("  doc/real/x.png ", "doc/real/x.png"),
    ],
)
def test_safe_join_keeps_relative_paths_inside_the_root(tmp_path: Path, rel: str, expected: str) -> None:
    assert safe_join(tmp_path, rel, source="f.json", where="record [0]") == tmp_path / expected


@pytest.mark.parametrize(
    "rel",
    [
        "../x.png",
        "a/../../x.png",
        "..",
        "/etc/passwd",
        "C:\\data\\x.png",
        "\\\\server\\share\\x.png",
        "..\\x.png",
    ],
)
def test_safe_join_refuses_paths_that_leave_the_root(tmp_path: Path, rel: str) -> None:
    with pytest.raises(SpotfakeError) as info:
        safe_join(tmp_path, rel, source="ann.json", where="record [7]")
    message = str(info.value)
    assert "ann.json record [7]" in message and "refused" in message and repr(rel) in message
    assert "\n" not in message


@pytest.mark.parametrize("rel", ["", "   ", None, 3])
def test_safe_join_refuses_empty_or_non_text_paths(tmp_path: Path, rel: object) -> None:
    with pytest.raises(SpotfakeError, match="non-empty string"):
        safe_join(tmp_path, rel, source="ann.json", where="record [0]")


def test_safe_join_is_lexical_so_links_the_user_made_are_kept(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "images").symlink_to(tmp_path / "elsewhere")
    joined = safe_join(tmp_path / "root", "images/x.png", source="f", where="r")
    assert joined == tmp_path / "root" / "images" / "x.png"


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
    ],
)
def test_json_is_read_in_utf8_and_in_utf16_or_32_with_or_without_bom(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    path = tmp_path / "ann.json"
    path.write_bytes(bom + json.dumps(DATA, ensure_ascii=False).encode(encoding))
    assert read_json_file(path, what="x") == DATA


def test_text_in_another_encoding_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ann.json"
    path.write_bytes(json.dumps(DATA, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(SpotfakeError) as info:
        read_json_file(path, what="x")
    message = str(info.value)
    assert str(path) in message and "cannot decode as utf-8" in message and "byte" in message


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "ann.json"
    path.write_text('[\n  {"image": "a.png",\n   "label": 0,,\n  }\n]\n', encoding="utf-8")
    with pytest.raises(SpotfakeError, match=r"ann\.json: malformed JSON at line 3 column 15"):
        read_json_file(path, what="x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
        ('[{"image": "a.png", "label": ' + "7" * 5000 + "}]", "an integer of 5000 digits is over the limit"),
        ('[{"image": "a.png", "label": 0, "label": 1}]', "duplicate key 'label'"),
        ('[{"image": "a.png", "label": NaN}]', "NaN is not a JSON number"),
    ],
)
def test_hostile_json_is_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ann.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpotfakeError, match=message) as info:
        read_json_file(path, what="x")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "ann.json"
    os.mkfifo(path)
    with pytest.raises(SpotfakeError, match=r"is a FIFO \(named pipe\); give the path of a regular file"):
        read_json_file(path, what="x")


def test_relative_ids_fold_dot_slash_and_backslashes() -> None:
    assert relative_id("./retina/x.png") == relative_id("retina/x.png") == "retina/x.png"
    assert relative_id("retina\\sub\\..\\x.png") == "retina/x.png"
    assert relative_id(" a//b/./c.png ") == "a/b/c.png"


def test_malformed_utf16_json_still_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ann.json"
    path.write_bytes(codecs.BOM_UTF16_LE + '[\n{"a": 1}\n{"b": 2}]'.encode("utf-16-le"))
    with pytest.raises(SpotfakeError, match="line 3 column 1"):
        read_json_file(path, what="x")


def test_missing_annotation_file_names_the_expected_path(tmp_path: Path) -> None:
    path = tmp_path / "data_json" / "test.json"
    with pytest.raises(SpotfakeError) as info:
        read_json_file(path, what="FakeClue annotations")
    assert f"annotation file not found: {path}" in str(info.value)
    assert "FakeClue annotations" in str(info.value)


def test_a_folder_where_a_file_should_be_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="is a folder"):
        read_json_file(tmp_path, what="x")


def test_data_root_errors_say_what_the_task_expects(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="task demo-task needs --data-root: a LOKI checkout"):
        require_data_root(SPEC, None, "a LOKI checkout")
    with pytest.raises(SpotfakeError, match=f"data root not found: {tmp_path / 'nope'}"):
        require_data_root(SPEC, tmp_path / "nope", "a LOKI checkout")
    assert require_data_root(SPEC, tmp_path, "x") == tmp_path


def test_unknown_task_argument_lists_the_known_ones() -> None:
    with pytest.raises(SpotfakeError, match=r"unknown task argument\(s\) splt \(known: image_dir, split\)"):
        check_args(SPEC, {"splt": "val", "split": "test"}, ("split", "image_dir"))
    check_args(SPEC, {"split": "val"}, ("split", "image_dir"))


def test_argument_paths_fill_in_the_split_and_allow_absolute_paths(tmp_path: Path) -> None:
    assert arg_path(tmp_path, "data_json/{split}.json", "val") == tmp_path / "data_json" / "val.json"
    assert arg_path(tmp_path, "/abs/{split}", "test") == Path("/abs/test")


def test_image_tokens_are_removed_wherever_they_are() -> None:
    assert strip_image_tokens("<image>Does the image looks real/fake?") == "Does the image looks real/fake?"
    assert strip_image_tokens("<image>\n<image>\nWhich one?") == "Which one?"
    assert strip_image_tokens("Look at <image> here") == "Look at  here"


def test_csv_rows_need_their_columns_and_a_well_formed_file(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("filename,typ\na.png,real\n")
    assert read_csv_rows(path, ("filename", "typ"), not_found="nope") == [
        {"filename": "a.png", "typ": "real"}
    ]
    with pytest.raises(SpotfakeError, match=r"list.csv: no column label \(columns: filename, typ\)"):
        read_csv_rows(path, ("filename", "label"), not_found="nope")
    with pytest.raises(SpotfakeError, match="^CSV list not found: here$"):
        read_csv_rows(tmp_path / "absent.csv", ("filename",), not_found="CSV list not found: here")
    path.write_text("filename,typ\n" + "x" * 200_000 + ",real\n")
    with pytest.raises(SpotfakeError) as info:
        read_csv_rows(path, ("filename", "typ"), not_found="nope")
    assert str(info.value).startswith(f"{path} line 2: field larger than field limit")
