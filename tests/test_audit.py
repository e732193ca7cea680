"""``spotfake audit``: formats, JPEG quality and sizes per class, and the format-only baseline's flag."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spotfake.harness.audit.facts import read_facts
from spotfake.harness.audit.jpeg_quality import estimate_quality
from spotfake.harness.audit.report import FLAG_AUC, audit_task
from spotfake.harness.cli import main
from spotfake.harness.task import load_task


@pytest.mark.parametrize("quality", [5, 10, 30, 50, 75, 90, 96, 100])
def test_jpeg_quality_is_read_back_from_the_quantisation_tables(quality: int) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(quality).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
        buffer, "JPEG", quality=quality
    )
    buffer.seek(0)
    with Image.open(buffer) as image:
        assert estimate_quality(image.quantization) == quality


def _folder(root: Path, real_format: str, fake_format: str, n: int = 24) -> Path:
    """A GenImage-style folder (0_real / 1_fake) whose images differ only in how they are stored."""
    rng = np.random.default_rng(0)
    for label, fmt in (("0_real", real_format), ("1_fake", fake_format)):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(n):
            size = int(rng.integers(48, 80))
            pixels = rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)
            image = Image.fromarray(pixels)
            if fmt == "jpeg96":
                image.save(folder / f"{i}.jpg", "JPEG", quality=96)
            else:
                image.save(folder / f"{i}.png", "PNG")
    return root


def test_the_genimage_bias_is_flagged_and_a_balanced_set_is_not(tmp_path: Path) -> None:
    biased = audit_task(load_task("imagefolder", _folder(tmp_path / "biased", "jpeg96", "png")))
    assert biased["classes"]["real"]["formats"] == {"JPEG": 24}
    assert biased["classes"]["fake"]["formats"] == {"PNG": 24}
    assert biased["classes"]["real"]["jpeg_quality"]["median"] == 96
    assert biased["classes"]["fake"]["jpeg_quality"] is None
    assert biased["format_only_auc"] is not None and biased["format_only_auc"] > 0.95
    assert biased["flagged"]
    balanced = audit_task(load_task("imagefolder", _folder(tmp_path / "balanced", "png", "png")))
    assert balanced["format_only_auc"] is not None and balanced["format_only_auc"] <= FLAG_AUC
    assert not balanced["flagged"]


def test_unreadable_files_are_counted_not_fatal(tmp_path: Path) -> None:
    root = _folder(tmp_path / "d", "png", "png", n=4)
    (root / "1_fake" / "9.png").write_bytes(b"not an image")
    assert read_facts(root / "1_fake" / "9.png") is None
    audit = audit_task(load_task("imagefolder", root))
    assert audit["classes"]["fake"]["unreadable"] == 1 and audit["classes"]["fake"]["n"] == 4


def test_a_run_on_an_audited_flagged_task_warns_and_records_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    root = _folder(tmp_path / "biased", "jpeg96", "png", n=12)
    assert main(["audit", "--task", "imagefolder", "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "FLAGGED" in out and "JPEG 12" in out and "PNG 12" in out
    argv = ["run", "--model", "always-fake", "--task", "imagefolder", "--data-root", str(root)]
    assert main([*argv, "--output-dir", str(tmp_path / "runs"), "--quiet", "--bootstrap", "0"]) == 0
    warnings = [r for r in caplog.records if "format-only baseline" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    (path,) = (tmp_path / "runs").rglob("results.json")
    recorded = json.loads(path.read_text())["audit"]
    assert recorded["flagged"] is True and recorded["format_only_auc"] > 0.95


def test_bad_audit_arguments_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--task", "imagefolder", "--data-root", str(tmp_path), "--per-class", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--per-class" in err and "\n" not in err
