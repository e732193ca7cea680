"""EvalGEN (DDA): fakes only, one folder per generator, images <prompt>_<k>.jpg; DDA scores index 0.

The fixture is a tiny copy of that layout; the tests check counts per generator, the index filter, the
declared fake-only label map, and the one line a missing or unexpected folder gives."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file
from spotfake.tasks.readers.evalgen import EVALGEN_GENERATORS
from spotfake.tasks.readers.labelmap import LabelMap
from spotfake.tasks.registry import DEFINITIONS


def read(root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "evalgen.yaml")
    return import_object(spec.reader)(
        spec, root, {**spec.args, "cache_dir": str(root.parent / "cache"), **args}
    )


def evalgen(root: Path, generators: tuple[str, ...] = EVALGEN_GENERATORS) -> Path:
    for generator in generators:
        for name in ("0001_0.jpg", "0001_1.jpg", "0002_0.jpg", "0002_3.jpg"):
            path = root / "EvalGEN" / generator / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"listed, never decoded")
    return root


def one_line(exc: pytest.ExceptionInfo[SpotfakeError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_evalgen_keeps_the_first_image_of_each_prompt_as_dda_does(tmp_path: Path) -> None:
    data = read(evalgen(tmp_path / "data"))
    assert Counter((s.category, s.label) for s in data.samples) == {
        (g, "fake"): 2 for g in EVALGEN_GENERATORS
    }
    assert data.samples[0].id == "EvalGEN/Flux/0001_0.jpg"
    assert data.notes["count_differences"][0] == "Flux: 2 fake, published 553"
    assert data.notes["label_map"] == "flux:fake|got:fake|infinity:fake|nova:fake|omnigen:fake"
    every = read(tmp_path / "data", index="all", generators="GoT+NOVA")
    assert len(every.samples) == 8 and every.notes["count_differences"] == []
    assert {s.category for s in every.samples} == {"GoT", "NOVA"}
    assert len(read(tmp_path / "data" / "EvalGEN", index="3").samples) == 5


def test_evalgen_missing_or_unexpected_folders_and_bad_arguments_are_one_line(tmp_path: Path) -> None:
    root = evalgen(tmp_path / "data", ("Flux", "GoT"))
    with pytest.raises(SpotfakeError) as info:
        read(root)
    assert "folder not found" in one_line(info) and "generators=" in str(info.value)
    assert len(read(root, generators="Flux+GoT").samples) == 4
    (root / "EvalGEN" / "real").mkdir()
    with pytest.raises(SpotfakeError) as info:
        read(root, generators="Flux")
    assert "unexpected folder" in one_line(info) and "EvalGEN/real" in str(info.value)
    (root / "EvalGEN" / "real").rmdir()
    with pytest.raises(SpotfakeError) as info:
        read(root, generators="Flux", index="first")
    assert "index must be a number" in one_line(info)
    with pytest.raises(SpotfakeError) as info:
        read(root, generators="Flux", index="7")
    assert "no image named <prompt>_7" in one_line(info)
    with pytest.raises(SpotfakeError) as info:
        read(root, generators="Flux", labels="Flux:fake|GoT:real")
    assert "declares a real value, but the set has no reals" in one_line(info)


def test_a_fake_only_map_is_only_for_sets_without_reals() -> None:
    assert LabelMap.parse("t", "a:fake|b:drop", fake_only=True).values("fake") == ["a"]
    with pytest.raises(SpotfakeError, match="at least one real and one fake"):
        LabelMap.parse("t", "a:fake")
    with pytest.raises(SpotfakeError, match=r"at least one fake value \(the set has no reals\)"):
        LabelMap.parse("t", "a:drop", fake_only=True)


def test_evalgen_is_listed_and_in_the_dda_suite(capsys: pytest.CaptureFixture[str]) -> None:
    from spotfake.harness.cli import main
    from spotfake.harness.suites.spec import get_suite

    assert main(["list", "tasks"]) == 0
    assert "evalgen" in {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert {"evalgen", "bfree-viral"} <= {e.task for e in get_suite("dda").entries}
