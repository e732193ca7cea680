"""The image-folder presets read labels through their declared label maps (``tasks.readers.labelmap``): a
folder beside the label folders that the map does not hold is refused in one line, ``add_labels`` and
``labels`` declare more, and the declarations leave the presets' task arguments and listings (their run keys)
as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import TASKS
from spotfake.harness.run_identity import TaskIdentity
from spotfake.harness.task import fingerprint_files, load_task
from spotfake.tasks.readers.imagefolder import layout_declaration
from spotfake.tasks.registry import DEFINITIONS

PRESETS = {
    # task: (label folders' parent below the data root, real folder, fake folder)
    "genimage": ("ADM/imagenet_ai_0508_adm/val", "nature", "ai"),
    "forensynths": ("progan/airplane", "0_real", "1_fake"),
    "chameleon": (".", "0_real", "1_fake"),
    "aigcdetect": ("test/progan", "0_real", "1_fake"),
}


def touch(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"listed, never decoded")


def tree(root: Path, task: str, *extra: str) -> Path:
    parent, real, fake = PRESETS[task]
    touch(root, f"{parent}/{real}/a.png", f"{parent}/{fake}/b.png", *(f"{parent}/{e}/c.png" for e in extra))
    return root


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTFAKE_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("task", sorted(PRESETS))
def test_a_folder_the_map_does_not_hold_is_refused_in_one_line(tmp_path: Path, task: str) -> None:
    root = tree(tmp_path / "d", task, "2_extra")
    with pytest.raises(SpotfakeError) as info:
        load_task(task, root)
    message = str(info.value)
    assert "\n" not in message and f"task {task}: unexpected folder '2_extra'" in message
    assert str(root) in message  # the folder that holds it
    assert "add_labels" in message


@pytest.mark.parametrize("task", sorted(PRESETS))
def test_add_labels_declares_a_folder_to_drop_or_to_read(tmp_path: Path, task: str) -> None:
    root = tree(tmp_path / "d", task, "2_extra")
    dropped = load_task(task, root, {"add_labels": "2_extra:drop"})
    assert sorted(s.label for s in dropped.samples) == ["fake", "real"]
    read = load_task(task, root, {"add_labels": "2_extra:fake"})
    assert sorted(s.label for s in read.samples) == ["fake", "fake", "real"]


def test_labels_replaces_the_layouts_map_and_names_are_case_folded(tmp_path: Path) -> None:
    touch(tmp_path / "d", "gen/Genuine/a.png", "gen/Synth/b.png", "gen/1_FAKE/c.png")
    task = load_task("forensynths", tmp_path / "d", {"labels": "genuine:real|synth:fake|1_fake:fake"})
    assert [(s.id, s.label) for s in task.samples] == [
        ("gen/1_FAKE/c.png", "fake"),
        ("gen/Genuine/a.png", "real"),
        ("gen/Synth/b.png", "fake"),
    ]
    with pytest.raises(SpotfakeError, match="task forensynths: labels entry 'genuine' is not RAW:real"):
        load_task("forensynths", tmp_path / "d", {"labels": "genuine"})


def test_a_layout_declares_its_own_folders_and_drops_the_other_conventions() -> None:
    spec = TASKS.get("genimage")
    assert layout_declaration("nature/ai", spec) == (
        "0_real:drop|1_fake:drop|nature:real|ai:fake|real:drop|fake:drop"
    )
    auto = layout_declaration("auto", spec)
    assert "drop" not in auto and "0_real:real" in auto and "ai:fake" in auto
    with pytest.raises(SpotfakeError, match="unknown layout 'cnnspot'"):
        layout_declaration("cnnspot", spec)


@pytest.mark.parametrize("task", sorted(PRESETS))
def test_the_declarations_keep_the_presets_arguments_and_listings(tmp_path: Path, task: str) -> None:
    """The run key hashes the task's arguments and the listing's fingerprint: neither changes (the map is the
    layout's, so no argument is added, and the listing holds id, label and size as before)."""
    import yaml

    root = tree(tmp_path / "d", task)
    loaded = load_task(task, root)
    declared = yaml.safe_load((DEFINITIONS / f"{task}.yaml").read_text())["args"]
    assert loaded.args == declared and "labels" not in loaded.args
    listing = tmp_path / "expected" / "listing.tsv"
    listing.parent.mkdir()
    listing.write_text(
        "".join(f"{s.id}\t{s.label}\t{(root / s.id).stat().st_size}\n" for s in loaded.samples)
    )
    assert TaskIdentity.of(loaded).key_fields() == {
        "task": task,
        "version": "1",
        "data": fingerprint_files([listing]),
        "args": dict(sorted((k, str(v)) for k, v in declared.items())),
    }
