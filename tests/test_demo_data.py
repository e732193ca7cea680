"""The committed demo set: intact (manifest), the promised size and protocol, and loadable as task `demo`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from spotfake.harness.task import load_task, resolve_package_path
from spotfake.tasks.demo import DATA_DIR
from spotfake.tasks.demo.manifest import MANIFEST_NAME, read_manifest, verify

pytestmark = pytest.mark.skipif(not (DATA_DIR / MANIFEST_NAME).exists(), reason="demo data not built")


def records(split: str) -> list[dict]:
    return json.loads((DATA_DIR / "data_json" / f"{split}.json").read_text(encoding="utf-8"))


def test_committed_files_match_the_manifest() -> None:
    result = verify(DATA_DIR)
    assert result.ok, (result.missing[:3], result.extra[:3], result.changed[:3])
    assert result.checked == len(read_manifest(DATA_DIR / MANIFEST_NAME)["files"]) > 1680


def test_task_definition_resolves_to_the_committed_folder() -> None:
    assert resolve_package_path("spotfake.tasks.demo:data") == DATA_DIR


def test_size_counts_and_images() -> None:
    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert total <= 15 * 1024 * 1024
    train, test = records("train"), records("test")
    assert len(train) >= 1000 and len(test) >= 400
    for split, recs in (("train", train), ("test", test)):
        for record in recs:
            with Image.open(DATA_DIR / split / record["image"]) as image:
                assert image.format == "PNG" and image.mode == "RGB" and image.size == (64, 64)


def test_protocol_held_out_generator_only_in_test() -> None:
    train = Counter(r["generator"] for r in records("train"))
    test = Counter(r["generator"] for r in records("test"))
    fakes_train = set(train) - {"real"}
    held_out = set(test) - set(train)
    assert len(fakes_train) >= 2 and held_out, (train, test)
    assert len(set(train) | set(test)) - 1 >= 3, "at least three generator families"
    assert train["real"] == sum(v for k, v in train.items() if k != "real")
    assert test["real"] == sum(v for k, v in test.items() if k != "real")
    build = json.loads((DATA_DIR / "build.json").read_text())
    assert sorted(build["config"]["held_out"]) == sorted(held_out)


def test_clues_match_labels_and_vary() -> None:
    for split in ("train", "test"):
        recs = records(split)
        texts = [r["conversations"][1]["value"] for r in recs]
        for record, text in zip(recs, texts, strict=True):
            assert text.startswith(
                "This is a real image. " if record["label"] == 1 else "This is a fake image. "
            )
            assert (record["generator"] == "real") == (record["label"] == 1)
        assert len(set(texts)) > 0.8 * len(texts)


def test_clue_evidence_is_recorded_for_every_image() -> None:
    evidence = json.loads((DATA_DIR / "clue_evidence.json").read_text())
    assert set(evidence["thresholds"]["hf_energy"]) == {"p5", "p25", "p50", "p75", "p95"}
    for split in ("train", "test"):
        assert set(evidence["splits"][split]) == {r["image"] for r in records(split)}


def test_loads_as_task_demo_with_categories_and_sources() -> None:
    task = load_task("demo")
    assert task.spec.breakdowns == ("generator", "source")
    samples = {s.id: s for s in task.samples}
    recs = records("test")
    assert len(samples) == len(recs)
    for record in recs:
        sample = samples[record["image"]]
        assert sample.label == ("real" if record["label"] == 1 else "fake")
        assert sample.category == record["cate"]
        assert sample.references == (record["conversations"][1]["value"],)
        assert sample.metadata.get("source") == record["source"]
        assert Path(sample.images[0]).is_file()
    train = load_task("demo", task_args={"split": "train"})
    assert len(train.samples) == len(records("train"))
