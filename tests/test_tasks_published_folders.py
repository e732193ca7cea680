"""Folder test sets in their owners' layouts: AIGIBench, WildRF, DRCT-2M, Synthbuster and SynthWildX.

Each test builds a tiny copy of the published layout and checks sample counts, labels, categories, and the
one line a missing or unexpected folder (or a label the declared map does not hold) gives."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.registry import import_object
from spotfake.harness.task import TaskData, load_spec_file, load_task
from spotfake.tasks.readers.generator_folders import DRCT_GENERATORS
from spotfake.tasks.readers.split_folders import AIGIBENCH_GROUPS, AIGIBENCH_SUBSETS
from spotfake.tasks.registry import DEFINITIONS


def read(task: str, root: Path | None, **args: Any) -> TaskData:
    spec = load_spec_file(DEFINITIONS / f"{task}.yaml")
    cache = (root or Path(".")).parent / "cache"
    return import_object(spec.reader)(spec, root, {**spec.args, "cache_dir": str(cache), **args})


def touch(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"listed, never decoded")


def one_line(exc: pytest.ExceptionInfo[SpotfakeError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def counts(data: TaskData) -> Counter[tuple[str | None, str | None]]:
    return Counter((s.category, s.label) for s in data.samples)


def aigibench(root: Path, subsets: tuple[str, ...] = AIGIBENCH_SUBSETS) -> Path:
    for i, subset in enumerate(subsets):
        touch(root, *(f"test/{subset}/0_real/{k}.png" for k in range(1 + i % 2)))
        touch(root, *(f"test/{subset}/1_fake/{k}.png" for k in range(1 + i % 2)))
    return root


def test_aigibench_has_25_subsets_in_5_groups_with_their_labels(tmp_path: Path) -> None:
    assert len(AIGIBENCH_SUBSETS) == len(set(AIGIBENCH_SUBSETS)) == 25 and len(AIGIBENCH_GROUPS) == 5
    data = read("aigibench", aigibench(tmp_path / "AIGIBench"))
    assert len(data.samples) == sum(2 * (1 + i % 2) for i in range(25))
    by = counts(data)
    assert by[("ProGAN", "real")] == by[("ProGAN", "fake")] == 1 and by[("R3GAN", "fake")] == 1
    assert {s.metadata["group"] for s in data.samples} == set(AIGIBENCH_GROUPS)
    first = data.samples[0]
    assert first.id == "test/ProGAN/0_real/0.png" and first.metadata["group"] == "GAN noise-to-image"
    assert data.notes["unbalanced_subsets"] == [] and data.notes["label_map"] == "0_real:real|1_fake:fake"
    assert data.notes["count_differences"] == [
        "CommunityAI: 2 real, published 6000",
        "CommunityAI: 2 fake, published 6000",
        "SocialRF: 1 real, published 3000",
        "SocialRF: 1 fake, published 3000",
        "FaceSwap: 2 real, published 4000",
        "FaceSwap: 2 fake, published 4000",
        "InSwap: 1 real, published 4000",
        "InSwap: 1 fake, published 4000",
        "WFIR: 2 real, published 1000",
        "WFIR: 2 fake, published 1000",
    ]


def test_aigibench_subsets_narrow_and_missing_or_unexpected_folders_are_one_line(tmp_path: Path) -> None:
    root = aigibench(tmp_path / "AIGIBench", ("ProGAN", "SDXL"))
    data = read("aigibench", root, subsets="SDXL+ProGAN")
    assert [s.category for s in data.samples] == ["ProGAN", "ProGAN", "SDXL", "SDXL", "SDXL", "SDXL"]
    with pytest.raises(SpotfakeError) as info:
        read("aigibench", root)
    assert (
        "folder not found" in one_line(info)
        and "test/StyleGAN3" in str(info.value)
        and "subsets=" in str(info.value)
    )
    touch(root, "test/Sora/0_real/a.png")
    with pytest.raises(SpotfakeError) as info:
        read("aigibench", root, subsets="ProGAN")
    assert "unexpected folder" in one_line(info) and "test/Sora" in str(info.value)
    with pytest.raises(SpotfakeError, match="known: ProGAN"):
        read("aigibench", root, subsets="Progan")


def test_a_label_folder_outside_the_declared_map_is_refused_not_guessed(tmp_path: Path) -> None:
    root = aigibench(tmp_path / "AIGIBench", ("ProGAN",))
    touch(root, "test/ProGAN/real/x.png")
    with pytest.raises(SpotfakeError) as info:
        read("aigibench", root, subsets="ProGAN")
    text = one_line(info)
    assert "unexpected folder 'real'" in text and "0_real:real|1_fake:fake" in text and "test/ProGAN" in text
    # an inverted declaration is read as declared: the folder names are the data's own truth
    inverted = read(
        "aigibench",
        aigibench(tmp_path / "B", ("ProGAN",)),
        subsets="ProGAN",
        labels="0_real:fake|1_fake:real",
    )
    assert [s.label for s in inverted.samples] == ["fake", "real"]
    with pytest.raises(SpotfakeError, match="not RAW:real"):
        read("aigibench", root, labels="0_real=real")


def test_wildrf_platforms_and_splits(tmp_path: Path) -> None:
    root = tmp_path / "WildRF"
    for platform in ("reddit", "twitter", "facebook"):
        touch(
            root,
            f"test/{platform}/0_real/a.jpg",
            f"test/{platform}/1_fake/b.jpg",
            f"test/{platform}/1_fake/c.png",
        )
    touch(root, "train/0_real/a.jpg", "train/1_fake/b.jpg", "val/0_real/a.jpg", "val/1_fake/b.jpg")
    data = read("wildrf", root)
    assert counts(data) == {
        (p, lab): n for p in ("reddit", "twitter", "facebook") for lab, n in (("real", 1), ("fake", 2))
    }
    assert data.samples[0].id == "test/reddit/0_real/a.jpg"
    train = read("wildrf", root, split="train")
    assert [(s.id, s.label, s.category) for s in train.samples] == [
        ("train/0_real/a.jpg", "real", None),
        ("train/1_fake/b.jpg", "fake", None),
    ]
    assert len(read("wildrf", root, platforms="twitter").samples) == 3
    touch(root, "test/instagram/0_real/a.jpg")
    with pytest.raises(SpotfakeError) as info:
        read("wildrf", root)
    assert "unexpected folder" in one_line(info) and "instagram" in str(info.value)


def drct(root: Path, generators: tuple[str, ...] = tuple(DRCT_GENERATORS)) -> Path:
    touch(
        root, "MSCOCO/val2017/000000000139.jpg", "MSCOCO/val2017/000000000285.jpg", "MSCOCO/train2017/a.jpg"
    )
    for g in generators:
        touch(root, f"DRCT-2M/{g}/val2017/000000000139.png", f"DRCT-2M/{g}/train2017/x.png")
    touch(root, "DR/DRCT-2M/stable-diffusion-v1-4/full_inpainting/train2017/x.png")  # DRCT's reconstructions
    return root


def test_drct2m_reals_once_and_one_category_per_generator(tmp_path: Path) -> None:
    assert len(DRCT_GENERATORS) == 16
    data = read("drct2m", drct(tmp_path / "DRCT_data"))
    assert counts(data)[("real", "real")] == 2 and len(data.samples) == 2 + 16
    assert {s.category for s in data.samples if s.label == "fake"} == set(DRCT_GENERATORS)
    sdxl = next(s for s in data.samples if s.category == "sdxl-turbo")
    assert (
        sdxl.id == "DRCT-2M/sdxl-turbo/val2017/000000000139.png"
        and sdxl.metadata["family"] == "Turbo variants"
    )
    train = read("drct2m", tmp_path / "DRCT_data", split="train2017", generators="sd-turbo")
    assert [(s.category, s.label) for s in train.samples] == [("real", "real"), ("sd-turbo", "fake")]


def test_drct2m_missing_and_unexpected_generators_are_one_line(tmp_path: Path) -> None:
    root = drct(tmp_path / "DRCT_data", ("sd-turbo", "sdxl-turbo"))
    with pytest.raises(SpotfakeError) as info:
        read("drct2m", root)
    assert "folder not found" in one_line(info) and "generators=" in str(info.value)
    assert len(read("drct2m", root, generators="sd-turbo+sdxl-turbo").samples) == 4
    touch(root, "DRCT-2M/sd3/val2017/a.png")
    with pytest.raises(SpotfakeError) as info:
        read("drct2m", root, generators="sd-turbo")
    assert "unexpected folder" in one_line(info) and "DRCT-2M/sd3" in str(info.value)
    with pytest.raises(SpotfakeError, match="not found: .*MSCOCO"):
        read("drct2m", tmp_path / "DRCT_data", labels="COCO:real|DRCT-2M:fake")


SYNTHBUSTER = (
    "dalle2", "dalle3", "firefly", "glide", "midjourney-v5",
    "stable-diffusion-1-3", "stable-diffusion-1-4", "stable-diffusion-2", "stable-diffusion-xl",
)  # fmt: skip


def synthbuster(data: Path) -> Path:
    touch(data, "synthbuster/real_RAISE_1k/r10893508t.png", "synthbuster/real_RAISE_1k/r02354285t.png")
    for g in SYNTHBUSTER:
        touch(data, f"synthbuster/{g}/r05839451t.png")
    return data


def test_synthbuster_folders_and_grip_csv(tmp_path: Path) -> None:
    data_dir = synthbuster(tmp_path / "data")
    listed = read("synthbuster", data_dir)
    assert counts(listed) == {("real", "real"): 2, **{(g, "fake"): 1 for g in SYNTHBUSTER}}
    assert listed.samples[0].id == "synthbuster/real_RAISE_1k/r02354285t.png"
    assert "dalle2: 1 fake, published 1000" in listed.notes["count_differences"]
    assert len(read("synthbuster", data_dir / "synthbuster").samples) == 11  # pointed at synthbuster/ itself
    (data_dir / "commercial_tools.csv").write_text(
        "filename,typ\nsynthbuster/dalle2/r05839451t.png,dalle2\nsynthbuster/real_RAISE_1k/r10893508t.png,real\n"
    )
    rows = read("synthbuster", data_dir, csv="commercial_tools.csv")
    assert [(s.id, s.label, s.category) for s in rows.samples] == [
        ("synthbuster/dalle2/r05839451t.png", "fake", "dalle2"),
        ("synthbuster/real_RAISE_1k/r10893508t.png", "real", "real"),
    ]


def test_synthbuster_extension_folders_are_declared_not_guessed(tmp_path: Path) -> None:
    data_dir = synthbuster(tmp_path / "data")
    touch(data_dir, "synthbuster/flux/a.png", "synthbuster/sd3.5/b.png")
    with pytest.raises(SpotfakeError) as info:
        read("synthbuster", data_dir)
    assert "unexpected folder 'flux'" in one_line(info) and "add_labels" in str(info.value)
    extended = read("synthbuster", data_dir, add_labels="flux:fake|sd3.5:fake")
    assert counts(extended)[("flux", "fake")] == 1 and counts(extended)[("sd3.5", "fake")] == 1
    (data_dir / "bad.csv").write_text("filename,typ\nsynthbuster/real_RAISE_1k/r10893508t.png,dalle2\n")
    with pytest.raises(SpotfakeError) as info:
        read("synthbuster", data_dir, csv="bad.csv", add_labels="flux:fake|sd3.5:fake")
    assert "bad.csv row 2" in one_line(info) and "typ 'dalle2' says fake" in str(info.value)


def test_synthwildx_from_list_csv_skips_images_never_downloaded(tmp_path: Path) -> None:
    root = tmp_path / "synthwildx"
    rows = ["url,filename,typ"]
    for typ in ("real", "dalle3", "firefly", "midjourney_v5"):
        rows += [f"https://x/{typ}{k},{typ}/{typ}{k}.jpg,{typ}" for k in range(2)]
        touch(root, f"{typ}/{typ}0.jpg")
    (root / "list.csv").write_text("\n".join(rows) + "\n")
    data = read("synthwildx", root)
    assert counts(data) == {
        ("real", "real"): 1,
        ("dalle3", "fake"): 1,
        ("firefly", "fake"): 1,
        ("midjourney_v5", "fake"): 1,
    }
    assert data.notes["images_not_downloaded"] == 4
    assert len(read("synthwildx", root, missing="keep").samples) == 8
    (root / "list.csv").write_text("url,filename,typ\nhttps://x,sora/a.jpg,sora\n")
    with pytest.raises(SpotfakeError) as info:
        read("synthwildx", root)
    assert "'sora' is not in the declared label map" in one_line(info) and "list.csv row 2" in str(info.value)


def test_the_tasks_load_through_the_engine(tmp_path: Path) -> None:
    loaded = load_task("aigibench", aigibench(tmp_path / "A", ("ProGAN",)), {"subsets": "ProGAN"})
    assert loaded.notes["label_map"] == "0_real:real|1_fake:fake" and len(loaded.samples) == 2
    with pytest.raises(SpotfakeError, match="unknown task argument"):
        load_task("drct2m", tmp_path, {"generator": "sd-turbo"})


def cospy(root: Path, sources: tuple[str, ...] = ("cc3m", "sbu")) -> Path:
    from spotfake.tasks.readers.cospy import EXAMPLE_REALS, MODELS

    for source in sources:
        for model in MODELS:
            touch(
                root,
                *(f"synthetic/{source}/{model}/{k}.png" for k in range(3)),
                f"synthetic/{source}/{model}/meta.json",
            )
        if source in EXAMPLE_REALS:
            touch(root, *(f"real_image_examples/{EXAMPLE_REALS[source]}/{k:03d}.jpg" for k in range(2)))
    return root


def test_cospy_bench_pairs_each_generator_with_its_source_reals(tmp_path: Path) -> None:
    root = cospy(tmp_path / "Co-Spy-Bench")
    data = read("cospy-bench", root, sources="cc3m")
    by = counts(data)
    assert (
        by[("real", "real")] == 2 and by[("stable-diffusion-v1-4", "fake")] == 2
    )  # N = min(2000, 2 reals, 3 fakes)
    assert len({c for c, _ in by}) == 23 and {s.metadata["source"] for s in data.samples} == {"cc3m"}
    assert data.samples[0].id == "real_image_examples/CC3M/000.jpg"
    assert counts(read("cospy-bench", root, sources="cc3m", pairing="all"))[("FLUX.1-dev", "fake")] == 3
    with pytest.raises(SpotfakeError) as info:
        read("cospy-bench", root, sources="mscoco")
    assert "folder not found" in one_line(info) and "synthetic/mscoco" in str(info.value)
    cospy(root, ("mscoco",))
    with pytest.raises(SpotfakeError) as info:
        read("cospy-bench", root, sources="mscoco")
    assert "mscoco_reals=<folder>" in one_line(info)
    touch(tmp_path, "coco/val2017/000000000139.jpg")
    coco = read("cospy-bench", root, sources="mscoco", mscoco_reals=str(tmp_path / "coco/val2017"))
    assert coco.samples[0].id == "mscoco_reals/000000000139.jpg" and counts(coco)[("sdxl-turbo", "fake")] == 1


def test_aigcdetect_reads_the_authors_test_folders(tmp_path: Path) -> None:
    root = tmp_path / "AIGCDetectionBenchmark"
    touch(
        root,
        "test/progan/airplane/0_real/a.png",
        "test/progan/airplane/1_fake/b.png",
        "test/Glide/0_real/c.png",
    )
    touch(root, "test/Glide/1_fake/d.png", "test/Glide/1_fake/e.png")
    data = read("aigcdetect", root)
    assert counts(data) == {
        ("Glide", "real"): 1,
        ("Glide", "fake"): 2,
        ("progan", "real"): 1,
        ("progan", "fake"): 1,
    }


def test_every_task_of_the_published_layouts_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    from spotfake.harness.cli import main

    assert main(["list", "tasks"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    names = {
        "aigibench",
        "wildrf",
        "drct2m",
        "synthbuster",
        "synthwildx",
        "commfor",
        "sofake-ood",
        "openfake",
    }
    assert names | {"fakebench", "cospy-bench", "hydrafake", "mmfr", "aigcdetect"} <= listed
