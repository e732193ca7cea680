"""Benchmark: CSS on 5,000 FakeClue-length pairs, and the speed-up the reference cache gives a second model.

Model A is scored with an empty cache (its responses and all references are embedded); model B, with other
responses, is then scored by a fresh scorer on the same cache (only its responses are embedded). The
script prints and stores (benchmarks/results/css.json) seconds, sentences/s and the speed-up.

    nice .venv/bin/python benchmarks/bench_css.py [--pairs 5000] [--threads 2] [--device cpu]

The pairs are those of bench_rouge.py (same generator and seed); model B's responses use another seed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import version

from bench_rouge import RESULTS, machine, make_pairs


def _load() -> float | None:
    """The 1-minute load average (other work on a shared machine skews timings; recorded with them)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import torch

    from spotfake.harness.metrics import CssScorer

    torch.set_num_threads(args.threads)
    responses_a, references = make_pairs(args.pairs, args.seed)
    responses_b, _ = make_pairs(args.pairs, args.seed + 1)
    refs_lists = [[r] for r in references]

    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        first = CssScorer(cache_dir=cache, device=args.device, batch_size=args.batch_size)
        first.embed(["warm-up"])  # load the embedder outside the timed scoring
        load_s = time.perf_counter() - start

        loads = [_load()]
        start = time.perf_counter()
        scores_a = first.score(responses_a, refs_lists)
        first_s = time.perf_counter() - start

        second = CssScorer(cache_dir=cache, device=args.device, batch_size=args.batch_size)
        second.embed(["warm-up"])
        loads.append(_load())
        start = time.perf_counter()
        scores_b = second.score(responses_b, refs_lists)
        second_s = time.perf_counter() - start
        loads.append(_load())

    sentences_a = first.stats["embedded_responses"] + first.stats["embedded_references"]
    sentences_b = second.stats["embedded_responses"] + second.stats["embedded_references"]
    figures = {
        "benchmark": "css",
        "pairs": args.pairs,
        "embedder": first.embedder_id,
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "model_load_s": round(load_s, 2),
        "first_model_s": round(first_s, 2),
        "first_model_sentences_embedded": sentences_a,
        "first_model_sentences_per_s": round(sentences_a / first_s, 1),
        "second_model_s": round(second_s, 2),
        "second_model_sentences_embedded": sentences_b,
        "second_model_references_from_cache": second.stats["cached_references"],
        "second_model_sentences_per_s": round(sentences_b / second_s, 1),
        "cache_speedup": round(first_s / second_s, 2),
        "mean_css_first_model": round(sum(scores_a) / len(scores_a), 4),
        "mean_css_second_model": round(sum(scores_b) / len(scores_b), 4),
        "sentence_transformers_version": version("sentence-transformers"),
        "torch_version": version("torch"),
        "load_avg_1min_before_first_after_first_after_second": loads,
        "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "css.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
