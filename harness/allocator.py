"""Keep glibc's ``malloc`` from handing a CPU forward's large buffers back to the kernel between batches.

By default glibc serves a block above a moving threshold (128 KiB, rising to at most 32 MiB) with its own
``mmap`` and trims the top of its heap once more than 128 KiB (later twice that threshold) lie free there. A network
forward on the CPU allocates and frees tensors of megabytes to hundreds of megabytes for every batch, and
preprocessing between two batches frees smaller buffers that move those thresholds: so each batch maps
fresh pages again and the kernel zero-fills them. Fixing both thresholds keeps freed blocks in the heap
for the next batch; predictions are unchanged. In ``benchmarks/bench_experts.py`` (docs/experts.md) NPR
ran 59% faster and Community Forensics' ViT-S/16 at 384 21% faster, with 2-5% more memory at the peak;
a ViT-L/14 at 224 ran as before.

``spotfake run`` and ``spotfake verify-run`` call :func:`tune_cpu_allocator` once; results.json records
what was set (``environment.malloc``). It does nothing on a C library other than glibc, when the user set
glibc's own ``MALLOC_*`` or ``GLIBC_TUNABLES`` variables, or with ``SPOTFAKE_MALLOC=default``.
"""

from __future__ import annotations

import ctypes
import os
import platform
from typing import Any

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter numbers (``malloc.h``)."""
MMAP_THRESHOLD = 32 * 1024 * 1024
"""The largest value glibc accepts on 64-bit (``DEFAULT_MMAP_THRESHOLD_MAX``): blocks above it are still
mapped and unmapped each time."""
TRIM_THRESHOLD = 1024 * 1024 * 1024
"""Free memory kept at the top of the heap before it is returned to the kernel."""
OPT_OUT = "SPOTFAKE_MALLOC"
USER_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")

_applied: dict[str, Any] | None = None


def tune_cpu_allocator() -> dict[str, Any] | None:
    """Fix glibc's mmap and trim thresholds for this process (idempotent); what was set, or None when
    nothing was (another C library, the user's own settings, or ``SPOTFAKE_MALLOC=default``)."""
    global _applied
    if _applied is not None:
        return _applied
    if os.environ.get(OPT_OUT, "").strip().lower() == "default":
        return None
    if any(name in os.environ for name in USER_VARIABLES) or platform.libc_ver()[0] != "glibc":
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1 or mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1:
        return None
    _applied = {"mmap_threshold": MMAP_THRESHOLD, "trim_threshold": TRIM_THRESHOLD}
    return _applied


def allocator_settings() -> dict[str, Any] | str:
    """What results.json records: the thresholds set by :func:`tune_cpu_allocator`, or ``"default"``."""
    return dict(_applied) if _applied is not None else "default"
