"""A small build is deterministic, writes FakeClue records, keeps the held-out family out of training,
and its manifest catches any change."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.tasks.demo.build import build
from spotfake.tasks.demo.cli import register_build, register_verify
from spotfake.tasks.demo.config import small
from spotfake.tasks.demo.manifest import MANIFEST_NAME, read_manifest, verify

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _restore_torch_state() -> Iterator[None]:
    """The build switches torch to one deterministic thread; give the test process its settings back."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    build(out, 3, jobs=1, config=small(), log=lambda _: None)
    return out


def _records(root: Path, split: str) -> list[dict]:
    return json.loads((root / "data_json" / f"{split}.json").read_text(encoding="utf-8"))


def test_records_follow_fakeclue_and_name_generator_and_source(built: Path) -> None:
    for split in ("train", "test"):
        for record in _records(built, split):
            assert set(record) == {
                "image",
                "label",
                "cate",
                "width",
                "height",
                "conversations",
                "generator",
                "source",
            }
            assert record["label"] in (0, 1)
            assert (record["generator"] == "real") == (record["label"] == 1)
            assert record["image"].split("/")[0] == record["source"]
            human, gpt = record["conversations"]
            assert human == {"from": "human", "value": "<image>Does the image looks real/fake?"}
            assert gpt["from"] == "gpt"
            assert gpt["value"].startswith(
                "This is a real image." if record["label"] else "This is a fake image."
            )
            with Image.open(built / split / record["image"]) as image:
                assert image.format == "PNG" and image.mode == "RGB"
                assert image.size == (record["width"], record["height"]) == (64, 64)


def test_held_out_family_appears_only_in_test(built: Path) -> None:
    train = {r["generator"] for r in _records(built, "train")}
    test = {r["generator"] for r in _records(built, "test")}
    assert train == {"real", "dcgan", "vae"}
    assert test == {"real", "dcgan", "vae", "ddpm"}
    summary = json.loads((built / "build.json").read_text())
    assert summary["config"]["held_out"] == ["ddpm"]
    assert summary["counts"]["test"]["ddpm"] == 4


def test_test_crops_come_from_bands_never_used_for_training(built: Path) -> None:
    summary = json.loads((built / "build.json").read_text())
    for source in summary["sources"]:
        splits = {r["split"] for r in source["regions"]}
        assert splits == {"train", "test"}, source["name"]
        rows = [tuple(r["rows"]) for r in source["regions"] if r["rows"]]
        assert all(a[1] <= b[0] for a, b in zip(rows, rows[1:], strict=False)), "bands overlap"
        faces = [set(r["faces"]) for r in source["regions"] if r["faces"]]
        assert not faces or not faces[0] & faces[1]


def test_same_seed_same_bytes_other_seed_other_bytes(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build(again, 3, jobs=1, config=small(), log=lambda _: None)
    assert verify(again, built / MANIFEST_NAME).ok
    assert (again / MANIFEST_NAME).read_bytes() == (built / MANIFEST_NAME).read_bytes()
    other = tmp_path / "other"
    build(other, 4, jobs=1, config=small(), log=lambda _: None)
    result = verify(other, built / MANIFEST_NAME)
    assert not result.ok and result.changed


def test_parallel_jobs_give_the_same_bytes(built: Path, tmp_path: Path) -> None:
    parallel = tmp_path / "parallel"
    build(parallel, 3, jobs=2, config=small(), log=lambda _: None)
    assert verify(parallel, built / MANIFEST_NAME).ok


def test_manifest_catches_changed_missing_and_extra_files(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    assert verify(copy).ok and verify(copy).checked == len(read_manifest(copy / MANIFEST_NAME)["files"])
    record = _records(copy, "test")[0]
    image = copy / "test" / record["image"]
    pixels = np.asarray(Image.open(image)).copy()
    pixels[0, 0, 0] ^= 1
    Image.fromarray(pixels).save(image)
    (copy / "train" / "stray.png").write_bytes(b"x")
    (copy / "build.json").unlink()
    result = verify(copy)
    assert result.changed == [f"test/{record['image']}"]
    assert result.extra == ["train/stray.png"]
    assert result.missing == ["build.json"]


def test_cli_verify_and_build(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register_verify(parser)
    args = parser.parse_args(["--data-root", str(built)])
    assert args.handler(args) == 0
    assert "ok:" in capsys.readouterr().out
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    (copy / "data_json" / "test.json").write_text("[]\n")
    args = parser.parse_args(["--data-root", str(copy)])
    assert args.handler(args) == 1
    assert "changed: data_json/test.json" in capsys.readouterr().out

    parser = argparse.ArgumentParser()
    register_build(parser)
    out = tmp_path / "cli-build"
    args = parser.parse_args(["--seed", "3", "--output", str(out), "--jobs", "1", "--profile", "small"])
    assert args.handler(args) == 0
    assert (out / MANIFEST_NAME).read_bytes() == (built / MANIFEST_NAME).read_bytes()


def test_build_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SpotfakeError, match="not a demo build"):
        build(tmp_path, 0, config=small(), log=lambda _: None)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_bad_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match="manifest not found"):
        verify(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text('{"files": 3}')
    with pytest.raises(SpotfakeError, match="not a demo manifest"):
        verify(tmp_path)
