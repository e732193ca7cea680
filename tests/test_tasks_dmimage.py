"""The dmimage task: the DMimage test set (Corvi et al. 2023) in its published layout, small trees made here."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.tasks.readers.dmimage import category_of, is_real_folder
from spotfake.tasks.registry import DEFINITIONS

FOLDERS = {
    "biggan_256": 2,
    "latent-diffusion_text2img_valid": 2,
    "stable_diffusion_256": 1,
    "my_new_generator": 1,
    "real_coco_valid": 2,
    "real_ucid": 1,
}


def read(root: Path, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / "dmimage.yaml")
    return import_object(spec.reader)(spec, root, {**spec.args, "cache_dir": str(root / ".cache"), **args})


def make_dmimage(root: Path, csv: bool = False) -> Path:
    rows = ["src,cropsize,x1,y1,qf"]
    for folder, n in FOLDERS.items():
        for i in range(n):
            path = root / folder / f"{i:03d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (4, 4)).save(path)
            rows.append(f"{folder}/{i:03d}.png,512,0,0,90")
    if csv:
        (root / "operations.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_folders_give_labels_and_generator_families(tmp_path: Path) -> None:
    data = read(make_dmimage(tmp_path / "dm"))
    samples = data.samples
    assert len(samples) == 9
    assert Counter(s.label for s in samples) == {"fake": 6, "real": 3}
    assert Counter(s.category for s in samples) == {
        "BigGAN": 2,
        "Latent Diff.": 2,
        "Stable Diff.": 1,
        "my_new_generator": 1,
        "Real": 3,
    }
    biggan = next(s for s in samples if s.id == "biggan_256/000.png")
    assert biggan.images == (tmp_path / "dm" / "biggan_256" / "000.png",)
    assert biggan.metadata == {"folder": "biggan_256"}
    assert is_real_folder("real_imagenet_valid") and not is_real_folder("eg3d")
    assert category_of("guided-diffusion_noise2image_LSUNcats") == "ADM"


def test_operations_csv_lists_the_images_and_finds_png_or_tif_twins(tmp_path: Path) -> None:
    root = make_dmimage(tmp_path / "dm", csv=True)
    (root / "real_ucid" / "000.png").rename(root / "real_ucid" / "000.tif")
    text = (
        (root / "operations.csv")
        .read_text(encoding="utf-8")
        .replace("biggan_256/001.png,", "biggan_256/001.jpg,")
    )
    (root / "operations.csv").write_text(text, encoding="utf-8")
    data = read(root)
    by_id = {s.id: s for s in data.samples}
    assert len(by_id) == 9 and root / "operations.csv" in data.files
    assert by_id["real_ucid/000.png"].images == (root / "real_ucid" / "000.tif",)
    assert by_id["biggan_256/001.jpg"].images == (root / "biggan_256" / "001.png",)
    load_task("dmimage", root, {"cache_dir": str(tmp_path / "cache")})


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("name,qf\nbiggan_256/000.png,90\n", "expected a CSV whose header names a 'src' column"),
        ("src,qf\n../secret.png,90\n", r"line 2: image path '../secret.png' escapes the data root"),
        ("src,qf\nloose.png,90\n", r"line 2: src 'loose.png' is not <folder>/<file>"),
        ("src,qf\nbiggan_256/000.png,90\n", "no real images below"),
    ],
)
def test_bad_operation_files_are_one_line_errors(tmp_path: Path, csv: str, message: str) -> None:
    root = make_dmimage(tmp_path / "dm")
    (root / "operations.csv").write_text(csv, encoding="utf-8")
    with pytest.raises(SpotfakeError, match=message):
        read(root)


def test_an_empty_folder_is_an_error_naming_the_layout(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpotfakeError, match=re.escape("no images in folders below")):
        read(tmp_path / "empty")


def test_list_tasks_counts_a_tree_in_the_published_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dmimage(tmp_path / "dm")
    assert main(["list", "tasks", "--data-root", str(root)]) == 0
    assert re.search(r"^dmimage\s+n=9\s", capsys.readouterr().out, re.MULTILINE)


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("real_ucid/a\x00b.png", r"operations.csv line 2: image path .* holds a NUL character"),
        ("real_ucid/" + "a" * 131_100 + ".png", r"operations.csv line 2: a field is longer than"),
        ("real_ucid/" + "a" * 5_000 + ".png", r"operations.csv line 2: image path .* is too long for a path"),
    ],
)
def test_a_hostile_src_is_one_line_naming_the_line(tmp_path: Path, src: str, message: str) -> None:
    root = make_dmimage(tmp_path / "dm")
    (root / "operations.csv").write_text(f"src,qf\n{src},90\nbiggan_256/000.png,90\n", encoding="utf-8")
    with pytest.raises(SpotfakeError, match=message) as caught:
        read(root)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 1_000


def test_a_mistyped_operations_file_is_refused_naming_the_files_there(tmp_path: Path) -> None:
    root = make_dmimage(tmp_path / "dm", csv=True)
    (root / "operations_jpeg.csv").write_text("src,qf\nreal_ucid/000.png,90\n", encoding="utf-8")
    with pytest.raises(SpotfakeError, match=r"operations file not found: .*opertions\.csv") as caught:
        read(root, operations="opertions.csv")
    assert "operations.csv, operations_jpeg.csv" in str(caught.value)
    assert len(read(root, operations="operations_jpeg.csv").samples) == 1
    (root / "operations.csv").unlink()
    assert len(read(root).samples) == 9  # the default file is optional: every image is listed


def test_dot_slash_sources_get_their_folders_category(tmp_path: Path) -> None:
    root = make_dmimage(tmp_path / "dm")
    (root / "operations.csv").write_text(
        "src,qf\n./real_ucid/000.png,90\nbiggan_256/./000.png,90\n", encoding="utf-8"
    )
    samples = read(root).samples
    assert [(s.id, s.category, s.label, s.metadata["folder"]) for s in samples] == [
        ("real_ucid/000.png", "Real", "real", "real_ucid"),
        ("biggan_256/000.png", "BigGAN", "fake", "biggan_256"),
    ]
