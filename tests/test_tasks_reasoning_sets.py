"""MMFR's evaluation sets (labels from 0_real/1_fake, reasoning references) and HydraFake's test splits
(JSON labels checked against their folders), each on a tiny copy of the published layout."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file
from spotfake.tasks.readers.hydrafake import SUBSETS
from spotfake.tasks.readers.mmfr import GENERATORS
from spotfake.tasks.registry import DEFINITIONS


def read(task: str, root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, **args})


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def mmfr(root: Path, generators: tuple[str, ...] = GENERATORS) -> Path:
    for g in generators:
        write_json(
            root / "evaluation_sets" / g / f"{g}_reasoning.json",
            {
                f"{g}/0_real/a.png": {
                    "texture": "Natural skin pores.",
                    "lighting": "Consistent shadows.",
                    "text": None,
                },
                f"{g}/1_fake/b.png": {"texture": "Waxy skin.", "anatomy": "Six fingers."},
            },
        )
    return root


def test_mmfr_labels_references_and_generators(tmp_path: Path) -> None:
    data = read("mmfr", mmfr(tmp_path / "MMFR-Dataset"))
    assert len(data.samples) == 20 and Counter(s.label for s in data.samples) == {"real": 10, "fake": 10}
    first, second = data.samples[:2]
    assert (first.id, first.label, first.category) == (
        "stablediffusion/0_real/a.png",
        "real",
        "stablediffusion",
    )
    assert first.references == (
        "Consistent shadows. Natural skin pores.",
    )  # sorted attributes, nulls left out
    assert second.references == ("Six fingers. Waxy skin.",) and second.label == "fake"
    assert first.images[0] == tmp_path / "MMFR-Dataset/evaluation_sets/stablediffusion/0_real/a.png"
    assert "conclude with 'this image is real' or 'this image is fake'" in first.prompt


def test_mmfr_missing_sets_and_names_without_a_label_folder_are_one_line(tmp_path: Path) -> None:
    root = mmfr(tmp_path / "MMFR-Dataset", ("flux", "gpt4o"))
    with pytest.raises(SpotfakeError, match="folder not found: .*evaluation_sets/stablediffusion"):
        read("mmfr", root)
    assert len(read("mmfr", root, generators="flux+gpt4o").samples) == 4
    write_json(root / "evaluation_sets/flux/flux_reasoning.json", {"flux/real/a.png": {"texture": "x"}})
    with pytest.raises(SpotfakeError) as info:
        read("mmfr", root, generators="flux")
    assert "\n" not in str(info.value) and "has no label folder of the declared map" in str(info.value)


def hydrafake(root: Path, splits: tuple[str, ...] = tuple(SUBSETS)) -> Path:
    for split in splits:
        for subset in SUBSETS[split]:
            items = [
                {"images": f"hydrafake/test/{subset}/0_real/r.png", "label": 0},
                {
                    "images": [
                        f"hydrafake/test/{subset}/1_fake/f1.png",
                        f"hydrafake/test/{subset}/1_fake/f2.png",
                    ],
                    "label": 1,
                },
            ]
            write_json(root / "jsons" / "test" / split / f"{subset}.json", items)
    return root


def test_hydrafake_splits_subsets_and_labels(tmp_path: Path) -> None:
    data = read("hydrafake", hydrafake(tmp_path / "hydrafake"))
    assert len(data.samples) == 3 * sum(len(s) for s in SUBSETS.values())
    assert Counter(s.metadata["split"] for s in data.samples) == {"id": 15, "cm": 18, "cf": 18, "cd": 18}
    first = data.samples[0]
    assert (first.id, first.label, first.category) == (
        "id/FaceForensics++/test/FaceForensics++/0_real/r.png",
        "real",
        "id/FaceForensics++",
    )
    assert first.images[0] == tmp_path / "hydrafake/test/FaceForensics++/0_real/r.png"
    assert {s.category for s in data.samples if "infiniteyou" in s.category} == {
        "cf/infiniteyou",
        "cd/infiniteyou",
    }
    assert len(read("hydrafake", tmp_path / "hydrafake", splits="cd").samples) == 18


def test_hydrafake_a_label_contradicting_its_folder_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    root = hydrafake(tmp_path / "hydrafake", ("id",))
    with pytest.raises(SpotfakeError, match="annotation file not found: .*jsons/test/cm/AdobeFirefly.json"):
        read("hydrafake", root)
    write_json(
        root / "jsons/test/id/Hallo2.json", [{"images": "hydrafake/test/Hallo2/0_real/r.png", "label": 1}]
    )
    with pytest.raises(SpotfakeError) as info:
        read("hydrafake", root, splits="id")
    text = str(info.value)
    assert "\n" not in text and "Hallo2.json item 0" in text and "label 1 says fake but its folder" in text
