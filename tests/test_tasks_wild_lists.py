"""In-the-wild sets listed in a CSV: Deepfake-Eval-2024 images and B-Free's viral images.

Each test builds a tiny copy of the published layout (the CSV header as published, the image folder beside it)
and checks counts, labels, splits, and the one line a missing file or an undeclared label gives."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.tasks.registry import DEFINITIONS

DFEVAL_HEADER = "Filename,Date,Ground Truth,Public Comments,Finetuning Set"
BFREE_HEADER = "filename,label,source_id,date,days_since_1st_post,w,h,md5,url"


def read(task: str, root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    return import_object(spec.reader)(
        spec, root, {**spec.args, "cache_dir": str(root.parent / "cache"), **args}
    )


def touch(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"listed, never decoded")


def one_line(exc: pytest.ExceptionInfo[SpotfakeError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def labels(data: TaskData) -> Counter[str | None]:
    return Counter(s.label for s in data.samples)


def deepfake_eval(root: Path) -> Path:
    rows = [
        DFEVAL_HEADER,
        "a.jpg,########,Fake,obvious,Test",
        "b.png,9/4/2024,Real,https://example.org,Test",
        'c.webp,########,Fake,"a comment, with a comma",Train',
        "d.jpeg,7/5/2024,Real,,Train",
        "e.jpg,7/5/2024,Fake,,Test",
        "f.jpg,7/5/2024,Real,,",
    ]
    (root / "image-metadata-publish.csv").parent.mkdir(parents=True, exist_ok=True)
    (root / "image-metadata-publish.csv").write_text("\n".join(rows) + "\n")
    touch(root, *(f"image-data/{name}" for name in ("a.jpg", "b.png", "c.webp", "d.jpeg", "e.jpg", "f.jpg")))
    return root


def test_deepfake_eval_reads_the_published_csv_and_its_finetuning_sets(tmp_path: Path) -> None:
    root = deepfake_eval(tmp_path / "Deepfake-Eval-2024")
    test = read("deepfake-eval-2024", root)
    assert labels(test) == {"fake": 2, "real": 1}
    assert [s.id for s in test.samples] == ["image-data/a.jpg", "image-data/b.png", "image-data/e.jpg"]
    assert test.samples[1].metadata == {"finetuning_set": "Test", "date": "9/4/2024"}
    assert test.notes["label_map"] == "real:real|fake:fake" and test.notes["images_missing"] == 0
    assert labels(read("deepfake-eval-2024", root, split="train")) == {"fake": 1, "real": 1}
    whole = read("deepfake-eval-2024", root, split="all")
    assert len(whole.samples) == 6 and whole.notes["count_differences"] == ["all: 6 images, published 1975"]
    assert whole.notes["counts"] == {
        "": {"real": 1, "fake": 0},
        "Test": {"real": 1, "fake": 2},
        "Train": {"real": 1, "fake": 1},
    }


def test_deepfake_eval_refuses_an_undeclared_label_and_names_missing_files(tmp_path: Path) -> None:
    root = deepfake_eval(tmp_path / "Deepfake-Eval-2024")
    csv = root / "image-metadata-publish.csv"
    csv.write_text(csv.read_text() + "g.jpg,########,Unknown,,Test\n")
    with pytest.raises(SpotfakeError) as info:
        read("deepfake-eval-2024", root)
    assert "row 8 (Ground Truth): label 'Unknown' is not in the declared label map" in one_line(info)
    assert len(read("deepfake-eval-2024", root, add_labels="Unknown:drop").samples) == 3
    (root / "image-data" / "a.jpg").unlink()
    assert read("deepfake-eval-2024", root, add_labels="Unknown:drop").notes["images_missing"] == 1
    with pytest.raises(SpotfakeError) as info:
        read("deepfake-eval-2024", root, csv="video-metadata-publish.csv")
    assert "metadata CSV not found" in one_line(info) and "video-metadata-publish.csv" in str(info.value)
    with pytest.raises(SpotfakeError) as info:
        read("deepfake-eval-2024", root, images="image_data")
    assert "folder not found" in one_line(info) and "image_data" in str(info.value)
    csv.write_text("Filename,Label\na.jpg,Fake\n")
    with pytest.raises(SpotfakeError) as info:
        read("deepfake-eval-2024", root)
    assert "no column Ground Truth, Finetuning Set" in one_line(info)


def bfree(root: Path) -> Path:
    rows = [BFREE_HEADER]
    for label, source, n in (("REAL", "Ed7JvuVXsAUTp-j", 2), ("FAKE", "FsL1ChiXwAAaVFk", 3)):
        for k in range(n):
            name = f"{label}/{source}/img{k:05d}.jpg"
            rows.append(
                f"{name},{label},{source},2020-07-26 11:24:20+00:00,{k}.5,940.0,580.0,0f,https://x/{k}"
            )
    root.mkdir(parents=True, exist_ok=True)
    (root / "BFree_viral_images.csv").write_text("\n".join(rows) + "\n")
    touch(root, "REAL/Ed7JvuVXsAUTp-j/img00000.jpg", "FAKE/FsL1ChiXwAAaVFk/img00000.jpg")
    touch(root, "FAKE/FsL1ChiXwAAaVFk/img00001.jpg")
    return root


def test_bfree_viral_skips_images_never_downloaded_and_compares_the_listed_counts(tmp_path: Path) -> None:
    root = bfree(tmp_path / "viral")
    data = read("bfree-viral", root)
    assert labels(data) == {"real": 1, "fake": 2} and data.notes["images_not_downloaded"] == 2
    assert data.samples[0].id == "REAL/Ed7JvuVXsAUTp-j/img00000.jpg" and data.samples[0].category is None
    assert data.samples[1].metadata == {
        "source_id": "FsL1ChiXwAAaVFk",
        "date": "2020-07-26 11:24:20+00:00",
        "days_since_1st_post": "0.5",
    }
    assert data.notes["count_differences"] == ["all: 2 real, published 361", "all: 3 fake, published 750"]
    assert len(read("bfree-viral", root, missing="keep").samples) == 5
    loaded = load_task("bfree-viral", root, {})
    assert loaded.notes["label_map"] == "real:real|fake:fake" and len(loaded.samples) == 3


def test_bfree_viral_refuses_a_label_its_folder_contradicts_or_an_absent_list(tmp_path: Path) -> None:
    root = bfree(tmp_path / "viral")
    csv = root / "BFree_viral_images.csv"
    csv.write_text(f"{BFREE_HEADER}\nREAL/s/img1.jpg,FAKE,s,2020-01-01,0,1,1,0f,https://x\n")
    with pytest.raises(SpotfakeError) as info:
        read("bfree-viral", root)
    assert "row 2: label 'FAKE' says fake but the folder 'REAL' says real" in one_line(info)
    csv.write_text(f"{BFREE_HEADER}\nSYNTH/s/img1.jpg,SYNTH,s,2020-01-01,0,1,1,0f,https://x\n")
    with pytest.raises(SpotfakeError) as info:
        read("bfree-viral", root)
    assert "label 'SYNTH' is not in the declared label map" in one_line(info)
    with pytest.raises(SpotfakeError) as info:
        read("bfree-viral", root, csv="missing.csv")
    assert "CSV list not found" in one_line(info) and "missing.csv" in str(info.value)
    with pytest.raises(SpotfakeError) as info:
        read("bfree-viral", bfree(tmp_path / "other"), labels="REAL:drop|FAKE:drop|X:fake|Y:real")
    assert "lists no image its label map keeps" in one_line(info) and "none of the 0" not in one_line(info)


def test_both_tasks_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    from spotfake.harness.cli import main

    assert main(["list", "tasks"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert {"deepfake-eval-2024", "bfree-viral"} <= listed
