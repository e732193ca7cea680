"""Safe image decoding: regular files only, real image formats only, and a pixel cap checked before decoding.

Every failure (a missing file, a FIFO, a NUL byte in the path, an unsupported or mislabelled format, a bad
header, a decompression bomb, a truncated file) is a :class:`SampleError` naming the path and the sample,
which the runner turns into one error record. Memory per image is bounded by the cap: the size in the
header is checked before any pixel is decoded, and only the first frame is read.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spotfake.harness.errors import SampleError
from spotfake.harness.jsonio import non_regular_kind

DEFAULT_MAX_PIXELS = 89_478_485
"""About 89 Mpx (PIL's own bomb threshold): far above any benchmark image (FakeClue's largest is ~16 Mpx)."""

IMAGE_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "BMP", "DIB", "GIF", "TIFF", "PPM")
"""The formats PIL may decode (JPEG covers multi-picture MPO files). Never EPS/PS (Ghostscript), PDF, or
the many exotic plugins."""


def _quiet_bomb_warning() -> None:
    """PIL warns between its limit and twice it; spotfake enforces its own cap, so the warning is noise."""
    import warnings

    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _open_regular(path: Path, sample_id: str) -> int:
    where = f"image {path} (sample {sample_id})"
    if "\x00" in str(path):
        raise SampleError(f"image path of sample {sample_id} contains a NUL byte: {str(path)!r:.200}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SampleError(f"image not found: {path} (sample {sample_id}); is --data-root right?") from None
    except IsADirectoryError:
        raise SampleError(f"{where} is a directory, not an image file") from None
    except OSError as exc:
        raise SampleError(f"cannot open {where}: {exc.strerror or exc}") from None
    kind = non_regular_kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise SampleError(f"{where} is {kind}, not a regular file")
    os.set_blocking(fd, True)
    return fd


def load_image(
    path: Path, *, sample_id: str, max_pixels: int = DEFAULT_MAX_PIXELS, mode: str | None = "RGB"
) -> Any:
    """Decode one image as an RGB PIL image, or raise SampleError naming ``path`` and ``sample_id``;
    ``mode=None`` keeps the file's own mode (mask images: 1-bit, 8- or 16-bit grey)."""
    from PIL import Image

    _quiet_bomb_warning()
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels  # a cap raised on purpose: PIL's own check must not undercut it
    fd = _open_regular(path, sample_id)
    where = f"image {path} (sample {sample_id})"
    with os.fdopen(fd, "rb") as handle:
        try:
            with Image.open(handle, formats=IMAGE_FORMATS) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise SampleError(
                        f"{where} is {width}x{height} = {width * height / 1e6:.1f} Mpx, over the cap of "
                        f"{max_pixels / 1e6:.1f} Mpx (raise it with --max-megapixels if it is genuine)"
                    )
                if mode is None:
                    img.load()
                    return img.copy()
                return img.convert(mode)
        except SampleError:
            raise
        except Image.UnidentifiedImageError:
            raise SampleError(
                f"cannot read {where}: not an image in a supported format ({', '.join(IMAGE_FORMATS)})"
            ) from None
        except Exception as exc:  # bombs, bad headers, truncation, decoder errors
            raise SampleError(f"cannot read {where}: {type(exc).__name__}: {exc}"[:500]) from None


def load_images(paths: Sequence[Path], *, sample_id: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[Any]:
    """Decode every image of one sample (see :func:`load_image`)."""
    return [load_image(path, sample_id=sample_id, max_pixels=max_pixels) for path in paths]


def image_data_url(image: Any, image_format: str = "png", jpeg_quality: int = 90) -> str:
    """An RGB PIL image as a ``data:`` URL (PNG, or JPEG at ``jpeg_quality``); same image, same bytes."""
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    if image_format == "jpeg":
        rgb.save(buffer, format="JPEG", quality=jpeg_quality)
        mime = "image/jpeg"
    else:
        rgb.save(buffer, format="PNG")
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
