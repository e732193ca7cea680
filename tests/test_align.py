"""Aligned task variants (``--task-args align=...``) take the format cue away before the model sees images."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_audit import _folder

from spotfake.harness.align import _jpeg96, align_step
from spotfake.harness.cli import main
from spotfake.harness.errors import SpotfakeError
from spotfake.harness.model import Item, Model
from spotfake.harness.registry import MODELS
from spotfake.harness.task import load_task
from spotfake.harness.types import Response


class FormatReader(Model):
    """Calls an image fake when it was never JPEG-compressed: re-encoding at 96 changes it a lot."""

    kind = "expert"

    def predict(self, items: Sequence[Item]) -> list[Response]:
        out = []
        for item in items:
            pixels = np.asarray(item.images[0], dtype=np.float32)
            change = float(np.abs(pixels - np.asarray(_jpeg96(item.images[0]), dtype=np.float32)).mean())
            out.append(Response(score=1.0 if change > 20.0 else 0.0))  # noise: ~46 as PNG, ~6 once JPEG
        return out


@pytest.fixture
def format_reader() -> Iterator[str]:
    MODELS.register("format-reader", FormatReader)
    yield "format-reader"
    MODELS._entries.pop("format-reader", None)


def test_each_alignment_changes_what_it_says_and_nothing_else() -> None:
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 300, 3), dtype=np.uint8))
    assert align_step("jpeg96-fakes", "real") is None
    fake = align_step("jpeg96-fakes", "fake")
    assert fake is not None and fake(image).size == (300, 200)
    assert np.abs(np.asarray(fake(image), float) - np.asarray(image, float)).mean() > 20  # it was compressed
    for label in ("real", "fake"):
        step = align_step("jpeg96-all", label)
        assert step is not None and step(image).size == (300, 200)
        crop = align_step("crop128", label)
        assert crop is not None and crop(image).size == (128, 128)
        small = align_step("crop256", label)
        assert small is not None and small(image).size == (256, 200)  # a side shorter than 256 is kept


def test_an_unknown_alignment_is_refused_before_any_data_is_read(tmp_path: Path) -> None:
    with pytest.raises(SpotfakeError, match=r"unknown align='jpeg95' \(valid: jpeg96-fakes, jpeg96-all"):
        load_task("imagefolder", tmp_path / "nowhere", {"align": "jpeg95"})


def test_a_format_reader_wins_on_the_biased_set_and_drops_to_chance_once_aligned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], format_reader: str
) -> None:
    root = _folder(tmp_path / "biased", "jpeg96", "png", n=16)
    acc = {}
    for align in ("none", "jpeg96-fakes", "jpeg96-all"):
        argv = ["run", "--model", format_reader, "--task", "imagefolder", "--data-root", str(root)]
        argv += ["--task-args", f"align={align}", "--output-dir", str(tmp_path / "runs"), "--quiet"]
        assert main([*argv, "--bootstrap", "0"]) == 0, capsys.readouterr().err
        folder = "imagefolder" if align == "none" else f"imagefolder@align={align}"
        results = json.loads((tmp_path / "runs" / format_reader / folder / "results.json").read_text())
        acc[align] = results["metrics"]["acc"]
        assert results["task"]["args"].get("align") == (None if align == "none" else align)
    assert acc["none"] == 1.0  # the file format alone separates the classes ...
    assert acc["jpeg96-fakes"] == 0.5 and acc["jpeg96-all"] == 0.5  # ... and aligned, it says nothing
