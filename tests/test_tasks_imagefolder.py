"""Real/fake image folders: each layout, each preset, categories, order, fingerprint and bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, fingerprint_files, load_spec_file, load_task
from spotfake.tasks.registry import DEFINITIONS


def read(task: str, root: Path | None, tmp_cache: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, "cache_dir": str(tmp_cache), **args})


def touch(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not decoded by the reader")


def summary(data: TaskData) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(s.id, s.label, s.category, s.metadata.get("group")) for s in data.samples]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_forensynths_layout_with_and_without_object_classes(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "CNN_synth_testset"
    touch(
        root,
        "progan/airplane/0_real/00001.png",
        "progan/airplane/1_fake/00001.png",
        "progan/cat/1_fake/00002.PNG",
        "biggan/0_real/a.jpg",
        "biggan/1_fake/b.JPEG",
        "biggan/1_fake/notes.txt",
    )
    data = read("forensynths", root, cache)
    assert summary(data) == [
        ("biggan/0_real/a.jpg", "real", "biggan", "biggan"),
        ("biggan/1_fake/b.JPEG", "fake", "biggan", "biggan"),
        ("progan/airplane/0_real/00001.png", "real", "progan", "progan/airplane"),
        ("progan/airplane/1_fake/00001.png", "fake", "progan", "progan/airplane"),
        ("progan/cat/1_fake/00002.PNG", "fake", "progan", "progan/cat"),
    ]
    assert all(s.images == (root / s.id,) for s in data.samples)
    assert {s.prompt for s in data.samples} == {"Does the image looks real/fake?"}
    parent = read("forensynths", root, cache, category="parent")
    assert [s.category for s in parent.samples] == ["biggan", "biggan", "airplane", "airplane", "cat"]


def test_genimage_layout(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "GenImage"
    touch(
        root,
        "ADM/imagenet_ai_0508_adm/val/ai/1.PNG",
        "ADM/imagenet_ai_0508_adm/val/nature/2.JPEG",
        "Midjourney/imagenet_midjourney/val/ai/3.png",
        "Midjourney/imagenet_midjourney/val/nature/4.webp",
    )
    data = read("genimage", root, cache)
    assert summary(data) == [
        ("ADM/imagenet_ai_0508_adm/val/ai/1.PNG", "fake", "ADM", "ADM/imagenet_ai_0508_adm/val"),
        ("ADM/imagenet_ai_0508_adm/val/nature/2.JPEG", "real", "ADM", "ADM/imagenet_ai_0508_adm/val"),
        (
            "Midjourney/imagenet_midjourney/val/ai/3.png",
            "fake",
            "Midjourney",
            "Midjourney/imagenet_midjourney/val",
        ),
        (
            "Midjourney/imagenet_midjourney/val/nature/4.webp",
            "real",
            "Midjourney",
            "Midjourney/imagenet_midjourney/val",
        ),
    ]


def test_chameleon_layout_has_no_category(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "Chameleon" / "test"
    touch(root, "0_real/a.jpg", "0_real/b.jpg", "1_fake/c.jpg")
    data = read("chameleon", root, cache)
    assert summary(data) == [
        ("0_real/a.jpg", "real", None, None),
        ("0_real/b.jpg", "real", None, None),
        ("1_fake/c.jpg", "fake", None, None),
    ]


def test_real_fake_layout_through_the_fakeclue_images_preset(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "FakeClue"
    touch(root, "test/doc/real/a.png", "test/doc/fake/b.png", "test/ff++/Real/c.bmp", "train/doc/fake/x.png")
    data = read("fakeclue-images", root, cache)
    assert summary(data) == [
        ("test/doc/fake/b.png", "fake", "doc", "doc"),
        ("test/doc/real/a.png", "real", "doc", "doc"),
        ("test/ff++/Real/c.bmp", "real", "ff++", "ff++"),
    ]


def test_auto_recognises_every_layout_at_any_depth(tmp_path: Path, cache: Path) -> None:
    touch(
        tmp_path / "data",
        "a/b/c/0_real/1.png",
        "a/b/c/1_fake/2.png",
        "GenImage/SD14/val/ai/3.png",
        "GenImage/SD14/val/nature/4.png",
        "wild/fake/5.png",
        "wild/real/6.png",
        "loose/7.png",
        ".hidden/fake/8.png",
        "wild/fake/.9.png",
    )
    data = read("imagefolder", tmp_path / "data", cache)
    assert Counter(s.label for s in data.samples) == {"real": 3, "fake": 3}
    assert {s.category for s in data.samples} == {"a", "GenImage", "wild"}
    assert data.notes == {"layout": "auto", "skipped_images": 1}


def test_a_preset_pins_its_layout(tmp_path: Path, cache: Path) -> None:
    touch(tmp_path / "d", "gen/0_real/1.png", "gen/ai/2.png")
    assert [s.id for s in read("genimage", tmp_path / "d", cache).samples] == ["gen/ai/2.png"]
    assert [s.id for s in read("forensynths", tmp_path / "d", cache).samples] == ["gen/0_real/1.png"]
    with pytest.raises(
        SpotfakeError, match=r"no images .* in real/fake folders below .* \(2 images elsewhere\)"
    ):
        read("imagefolder", tmp_path / "d", cache, layout="real/fake")


def test_the_nearest_real_fake_folder_decides(tmp_path: Path, cache: Path) -> None:
    touch(tmp_path / "d", "real/fake/x.png", "1_fake/sub/dir/y.png")
    assert summary(read("imagefolder", tmp_path / "d", cache)) == [
        ("1_fake/sub/dir/y.png", "fake", None, None),
        ("real/fake/x.png", "fake", "real", "real"),
    ]


def test_subdir_scans_part_of_the_root_and_ids_stay_relative_to_the_root(tmp_path: Path, cache: Path) -> None:
    touch(tmp_path / "d", "test/gen/0_real/1.png", "train/gen/0_real/2.png")
    data = read("imagefolder", tmp_path / "d", cache, subdir="test")
    assert summary(data) == [("test/gen/0_real/1.png", "real", "gen", "gen")]
    with pytest.raises(SpotfakeError, match="folder not found: .*valid .task argument subdir"):
        read("imagefolder", tmp_path / "d", cache, subdir="valid")


def test_order_is_deterministic_and_the_fingerprint_follows_the_contents(tmp_path: Path, cache: Path) -> None:
    root = tmp_path / "d"
    touch(root, "g/1_fake/b.png", "g/1_fake/a.png", "g/0_real/c.png")
    first = read("imagefolder", root, cache)
    assert [s.id for s in first.samples] == ["g/0_real/c.png", "g/1_fake/a.png", "g/1_fake/b.png"]
    before = fingerprint_files(first.files)
    assert fingerprint_files(read("imagefolder", root, cache).files) == before
    touch(root, "g/1_fake/d.png")
    with_d = fingerprint_files(read("imagefolder", root, cache).files)
    assert with_d != before
    (root / "g/1_fake/d.png").write_bytes(b"a different, longer content")
    assert fingerprint_files(read("imagefolder", root, cache).files) not in (before, with_d)


def test_load_task_fingerprints_the_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTFAKE_CACHE", str(tmp_path / "sc"))
    touch(tmp_path / "d", "g/0_real/c.png", "g/1_fake/a.png")
    task = load_task("imagefolder", tmp_path / "d")
    assert len(task.samples) == 2 and task.data_fingerprint != "none"
    assert (tmp_path / "sc" / "imagefolder").is_dir()
    monkeypatch.delenv("SPOTFAKE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert load_task("imagefolder", tmp_path / "d").data_fingerprint == task.data_fingerprint
    assert (tmp_path / "xdg" / "spotfake" / "imagefolder").is_dir()


def test_symlinked_folders_are_followed_once(tmp_path: Path, cache: Path) -> None:
    touch(tmp_path / "elsewhere", "0_real/a.png")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "gen").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere" / "loop").symlink_to(tmp_path / "d", target_is_directory=True)
    assert [s.id for s in read("imagefolder", tmp_path / "d", cache).samples] == ["gen/0_real/a.png"]


def test_bad_arguments_and_empty_folders(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        SpotfakeError,
        match=r"no images \(.png, .jpg, .jpeg, .webp, .bmp\) in 0_real/1_fake or nature/ai or real/fake",
    ):
        read("imagefolder", tmp_path / "empty", cache)
    with pytest.raises(SpotfakeError, match="unknown layout 'cnnspot'"):
        read("imagefolder", tmp_path / "empty", cache, layout="cnnspot")
    with pytest.raises(SpotfakeError, match="category must be one of top, parent, none"):
        read("imagefolder", tmp_path / "empty", cache, category="generator")
    with pytest.raises(SpotfakeError, match="imagefolder needs --data-root"):
        read("imagefolder", None, cache)
