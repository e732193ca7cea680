"""Samples/s of the local LMM adapters on CPU: batch 1 against batch 16, on tiny random models.

Builds a tiny LLaVA (FakeVLM's architecture) and a tiny Qwen2-VL from configs, then times
``FakeVLM.predict`` (generate and score modes) and ``HFImageTextModel.predict`` over the same synthetic
images at each batch size. Greedy decoding gives the same answers at every batch size, so the work per
sample is the same and only batching differs. Writes ``benchmarks/results/adapters_cpu.json``.

    OMP_NUM_THREADS=1 nice python benchmarks/bench_adapters.py            # ~1-2 minutes on one core
    python benchmarks/bench_adapters.py --n 32 --threads 2 --out /tmp/a.json

The figures describe the adapters' overhead and batching gain on tiny models; they say nothing about a
7B model on a GPU (see ``benchmarks/gpu_generate.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "adapters_cpu.json"
sys.path.insert(0, str(ROOT / "tests"))  # the tiny model builders are test fixtures


def synthetic_items(n: int, size: int) -> list[Any]:
    """``n`` items with one random RGB image each and the published FakeVLM question."""
    import numpy as np
    from PIL import Image

    from spotfake.harness.model import Item
    from spotfake.harness.types import Sample

    rng = np.random.RandomState(0)
    return [
        Item(
            Sample(
                id=f"b{i:04d}", label="fake" if i % 2 else "real", prompt="Does the image looks real/fake?"
            ),
            [Image.fromarray(rng.randint(0, 256, (size, size, 3), dtype=np.uint8))],
        )
        for i in range(n)
    ]


def time_predict(model: Any, items: list[Any], repeats: int) -> tuple[list[float], list[Any]]:
    """Wall times of ``repeats`` full passes over ``items`` (after one warm-up batch), and the last answers."""
    model.predict(items[: model.batch_size])  # warm-up: allocator, kernels, lazy imports
    times = []
    responses: list[Any] = []
    for _ in range(repeats):
        start = time.perf_counter()
        responses = model.predict(items)
        times.append(time.perf_counter() - start)
    return times, responses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48, help="samples per pass (default 48)")
    parser.add_argument("--batch-sizes", default="1,16", help="comma-separated (default 1,16)")
    parser.add_argument("--max-new-tokens", type=int, default=16, help="new tokens per answer (default 16)")
    parser.add_argument(
        "--image-size", type=int, default=64, help="side of the synthetic images (default 64)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per setting (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: shared machine)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava, build_tiny_qwen2_vl

    from spotfake.adapters.fakevlm.adapter import FakeVLM
    from spotfake.adapters.hf_lmm import HFImageTextModel

    torch.set_num_threads(args.threads)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    items = synthetic_items(args.n, args.image_size)
    tmp = Path(tempfile.mkdtemp(prefix="bench-adapters-"))
    llava = build_tiny_llava(tmp / "tiny-llava", chat_template=LLAVA_CHAT_TEMPLATE)
    qwen = build_tiny_qwen2_vl(tmp / "tiny-qwen2-vl")
    setups = [
        (
            "fakevlm",
            "generate",
            lambda b: FakeVLM(path=str(llava), batch_size=b, max_new_tokens=args.max_new_tokens),
        ),
        ("fakevlm", "score", lambda b: FakeVLM(path=str(llava), batch_size=b, mode="score")),
        (
            "hf",
            "tiny-llava",
            lambda b: HFImageTextModel(path=str(llava), batch_size=b, max_new_tokens=args.max_new_tokens),
        ),
        (
            "hf",
            "tiny-qwen2-vl",
            lambda b: HFImageTextModel(path=str(qwen), batch_size=b, max_new_tokens=args.max_new_tokens),
        ),
    ]
    rows = []
    for adapter, variant, make in setups:
        answers_by_batch: dict[int, list[Any]] = {}
        for batch in batch_sizes:
            model = make(batch)
            times, responses = time_predict(model, items, args.repeats)
            best = min(times)
            tokens = sum((r.usage or {}).get("completion_tokens", 0) for r in responses)
            answers_by_batch[batch] = [(r.text, r.score) for r in responses]
            rows.append(
                {
                    "adapter": adapter,
                    "variant": variant,
                    "batch_size": batch,
                    "n_samples": len(items),
                    "seconds_best": round(best, 4),
                    "seconds_median": round(statistics.median(times), 4),
                    "samples_per_s": round(len(items) / best, 2),
                    "completion_tokens": tokens,
                    "tokens_per_s": round(tokens / best, 1) if tokens else None,
                    "errors": sum(r.error is not None for r in responses),
                }
            )
            print(
                f"{adapter:8} {variant:14} batch {batch:3}: {len(items) / best:8.2f} samples/s "
                f"({best:.3f} s for {len(items)})",
                flush=True,
            )
            model.close()
        texts = {b: [t for t, _ in a] for b, a in answers_by_batch.items()}
        same = len({json.dumps(t) for t in texts.values()}) == 1
        rows[-1]["same_answers_across_batch_sizes"] = same
    speedups = {}
    for adapter, variant, _ in setups:
        rate = {
            r["batch_size"]: r["samples_per_s"]
            for r in rows
            if (r["adapter"], r["variant"]) == (adapter, variant)
        }
        if len(batch_sizes) > 1:
            speedups[f"{adapter}/{variant}"] = round(rate[batch_sizes[-1]] / rate[batch_sizes[0]], 2)
    report = {
        "benchmark": "adapters_cpu",
        "command": "python benchmarks/bench_adapters.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "settings": {
            "max_new_tokens": args.max_new_tokens,
            "image_size": args.image_size,
            "repeats": args.repeats,
            "models": "tiny random LLaVA (hidden 32, 2 layers, 32px/8px patches) and Qwen2-VL (hidden 32, 2 layers)",
        },
        "results": rows,
        "speedup_last_vs_first_batch_size": speedups,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"speedup batch {batch_sizes[-1]} vs {batch_sizes[0]}: {speedups}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
