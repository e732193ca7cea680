"""Hostile images (issue 16, item 4): each is one error record naming the path; the run goes on."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from conftest import TOY_TASK
from PIL import Image

from spotfake.harness.cli import main
from spotfake.harness.images import load_image
from spotfake.harness.results import read_records
from spotfake.harness.types import Sample, SampleError


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares ``width`` x ``height`` (a decompression bomb's header, ~70 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 8))
        + chunk(b"IEND", b"")
    )


def hostile_folder(root: Path) -> dict[int, str]:
    """img_0..img_6 for the toy task; returns the expected message per broken index."""
    root.mkdir()
    (root / "img_0.png").write_bytes(png_header(30_000, 30_000))
    (root / "img_1.png").write_bytes(b"P6\n12 x\n255\n" + b"\0" * 64)  # a PPM with a mangled header
    os.mkfifo(root / "img_2.png")
    (root / "img_3.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n")
    (root / "img_4.png").write_bytes(png_header(12_000, 12_000))  # 144 Mpx declared, over the cap
    Image.new("RGB", (16, 16), (10, 20, 30)).save(root / "img_5.png")
    (root / "img_6.png").mkdir()
    return {
        0: "DecompressionBombError",
        1: "cannot read image",
        2: "FIFO",
        3: "not an image in a supported format",
        4: "over the cap of 89.5 Mpx",
        6: "is a directory",
    }


def test_each_hostile_image_is_one_error_record(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expected = hostile_folder(tmp_path / "imgs")
    argv = ["run", "--model", "linear-probe", "--task", str(TOY_TASK), "--task-args", "n=7"]
    argv += ["--data-root", str(tmp_path / "imgs"), "--output-dir", str(tmp_path / "runs")]
    code = main([*argv, "--quiet", "--bootstrap", "0", "--workers", "2"])
    _, err = capsys.readouterr()
    assert code == 0, err
    records = {
        r.id: r for r in read_records(tmp_path / "runs" / "linear-probe" / "toy@n=7" / "samples.jsonl")
    }
    for index, message in expected.items():
        error = records[f"s{index:05d}"].error or ""
        assert message in error and f"img_{index}.png" in error, (index, error)
    assert records["s00005"].error is None and records["s00005"].score is not None


def test_the_pixel_cap_is_configurable(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(2):
        Image.new("RGB", (200, 100), (i, 0, 0)).save(root / f"img_{i}.png")
    argv = ["run", "--model", "linear-probe", "--task", str(TOY_TASK), "--task-args", "n=2"]
    argv += ["--data-root", str(root), "--output-dir", str(tmp_path / "runs"), "--quiet", "--bootstrap", "0"]
    assert main([*argv, "--max-megapixels", "0.01"]) == 0
    records = read_records(tmp_path / "runs" / "linear-probe" / "toy@n=2" / "samples.jsonl")
    assert all("200x100 = 0.0 Mpx, over the cap of 0.0 Mpx" in (r.error or "") for r in records)
    assert main([*argv, "--max-megapixels", "0"]) == 2
    assert "--max-megapixels must be > 0" in capsys.readouterr().err


def test_a_nul_byte_in_an_image_path_names_the_sample() -> None:
    sample = Sample(id="x1", label="fake", prompt="?", images=(Path("a\x00b.png"),))
    with pytest.raises(SampleError, match="image path of sample x1 contains a NUL byte"):
        sample.load_images()


def test_good_images_decode_to_rgb(tmp_path: Path) -> None:
    Image.new("L", (8, 4), 7).save(tmp_path / "g.webp")
    image = load_image(tmp_path / "g.webp", sample_id="g")
    assert image.mode == "RGB" and image.size == (8, 4)


def test_a_large_real_png_is_refused_before_decoding(tmp_path: Path) -> None:
    """A real 12000x12000 PNG (a few hundred KB) never gets its 144 Mpx decoded: memory stays small."""
    import subprocess
    import sys

    path = tmp_path / "huge.png"
    Image.new("1", (12_000, 12_000), 0).save(path)  # a 1-bit image: 18 MB in memory, tiny on disk
    assert path.stat().st_size < 2_000_000
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from spotfake.harness.images import load_image\n"
        "from spotfake.harness.types import SampleError\n"
        "try:\n"
        f"    load_image(Path({str(path)!r}), sample_id='big')\n"
        "except SampleError as exc:\n"
        "    print(exc)\n"
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"  # peak since exec
        "print(int(hwm.split()[1]) // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    message, peak_mb = out.stdout.strip().splitlines()
    assert "12000x12000 = 144.0 Mpx, over the cap of 89.5 Mpx" in message and "huge.png" in message
    assert int(peak_mb) < 250  # decoding it as RGB alone would take 432 MB
