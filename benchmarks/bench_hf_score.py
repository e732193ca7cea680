"""hf adapter: ``mode=score`` (one forward pass per sample) against generating 64 tokens, same tiny model.

Builds a tiny random Qwen2-VL and a tiny LLaVA from configs (tests/fixtures/tiny_models.py) and times
``HFImageTextModel.predict`` over the same synthetic images in two modes at one batch size:

- ``score``: p(fake) from the "fake"/"real" token sets at the first answer position, no generation;
- ``generate``: greedy decoding of exactly 64 new tokens (``min_new_tokens=64``, so an early EOS cannot
  shorten the work).

The two modes take turns in every repeat; wall time and this process's CPU time are both recorded (on a
shared machine the CPU time is the steadier figure: other processes' load does not count in it).

Verdict agreement: greedy decoding's first new token is the arg-max of the same next-token distribution
that score mode reads. Where that token is in the fake or real set (the generated answer starts with a
verdict), the verdict it starts with is compared with score mode's (p(fake) >= 0.5), and the generated
text is checked to start with that token. A random model seldom starts with a verdict word, so the rows of
the two verdict words' own tokens (" fake", " real") in the output layer are set to make them its likeliest
first tokens, with the one that wins depending on the sample (:func:`lean_towards_verdicts`). Writes
``benchmarks/results/hf_score.json``.

    OMP_NUM_THREADS=1 nice python benchmarks/bench_hf_score.py     # about a minute on one core

The figures describe the adapter on tiny models on a CPU; on a 7B model the gap grows with the cost of a
decoding step relative to a prefill.
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
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "hf_score.json"
sys.path.insert(0, str(ROOT / "tests"))  # the tiny model builders are test fixtures
GENERATED_TOKENS = 64


def synthetic_items(n: int, size: int) -> list[Any]:
    """``n`` items with one random RGB image each; the question varies a little between samples."""
    import numpy as np
    from PIL import Image

    from spotfake.harness.model import Item
    from spotfake.harness.types import Sample

    rng = np.random.RandomState(0)
    questions = ("Does the image looks real/fake?", "Is this image real or fake?", "Real or fake?")
    return [
        Item(
            Sample(id=f"b{i:04d}", label="fake" if i % 2 else "real", prompt=questions[i % len(questions)]),
            [Image.fromarray(rng.randint(0, 256, (size, size, 3), dtype=np.uint8))],
        )
        for i in range(n)
    ]


def lean_towards_verdicts(folder: Path, out: Path, items: list[Any], margin: float) -> Path:
    """A copy of the model at ``folder`` whose output rows of " fake" and " real" make them the likeliest
    first answer tokens, with the one that wins depending on the sample.

    The final hidden states ``h`` at the first answer position of ``items`` are read (a hook on the output
    layer). With ``m`` the unit mean of ``h`` and ``v`` their direction of largest variance, made
    orthogonal to the mean, the rows become ``a*m + b*v`` (" fake") and ``a*m - b*v`` (" real"): the
    fake-minus-real logit gap is ``2b(h.v)``, zero at the mean and 2 nats at the median sample, and ``a``
    puts the lower of the two at least ``margin`` nats above every other token on every sample.
    """
    import torch

    from spotfake.adapters.hf_lmm import HFImageTextModel

    model = HFImageTextModel(path=str(folder), batch_size=len(items), device="cpu")
    head = model.engine.model.get_output_embeddings()
    seen: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda _m, args, _o: seen.append(args[0][:, -1, :].detach().clone()))
    try:
        texts = [model.prompt_text(item) for item in items]
        inputs = model.engine.encode(texts, [[im.convert("RGB") for im in item.images] for item in items])
        logits, _ = model.engine.last_logits(inputs)
    finally:
        hook.remove()
    tokenizer = model.engine.tokenizer
    ids = {word: tokenizer(word, add_special_tokens=False)["input_ids"][0] for word in (" fake", " real")}
    h = seen[0].float()
    mu = h.mean(dim=0)
    m = mu / mu.norm()
    d = torch.linalg.svd(h - mu, full_matrices=False).Vh[0]
    v = d - (mu @ d) / (mu @ m) * m
    b = 1.0 / float((h @ v).abs().median().clamp(min=1e-6))
    others = logits.clone()
    others[:, list(ids.values())] = float("-inf")
    need = others.max(dim=1).values + margin + b * (h @ v).abs()
    a = float((need / (h @ m).clamp(min=1e-3)).max())
    with torch.no_grad():
        head.weight[ids[" fake"]] = (a * m + b * v).to(head.weight.dtype)
        head.weight[ids[" real"]] = (a * m - b * v).to(head.weight.dtype)
    model.engine.model.save_pretrained(out)
    model.engine.processor.save_pretrained(out)
    return out


def timed_pair(models: dict[str, Any], items: list[Any], repeats: int) -> dict[str, Any]:
    """Time full passes over ``items`` with each model, the modes taking turns in every repeat (so load
    from other processes falls on both): wall and CPU seconds per pass, and the last responses."""
    for model in models.values():
        model.predict(items[: model.batch_size])  # warm-up: allocator, kernels, lazy imports
    out: dict[str, Any] = {name: {"wall": [], "cpu": [], "responses": []} for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            wall, cpu = time.perf_counter(), time.process_time()
            out[name]["responses"] = model.predict(items)
            out[name]["wall"].append(time.perf_counter() - wall)
            out[name]["cpu"].append(time.process_time() - cpu)
    return out


def first_tokens(model: Any, items: list[Any]) -> list[int]:
    """Greedy decoding's first new token per item: the arg-max of the next-token logits."""
    out = []
    for item in items:
        inputs = model.engine.encode([model.prompt_text(item)], [[im.convert("RGB") for im in item.images]])
        logits, _ = model.engine.last_logits(inputs)
        out.append(int(logits[0].argmax()))
    return out


def compare(name: str, path: Path, items: list[Any], batch_size: int, repeats: int) -> dict[str, Any]:
    """Time both modes on one model and measure where their verdicts agree."""
    from spotfake.adapters.generation import GreedySettings
    from spotfake.adapters.hf_lmm import HFImageTextModel

    scorer = HFImageTextModel(path=str(path), mode="score", batch_size=batch_size, device="cpu")
    generator = HFImageTextModel(path=str(path), batch_size=batch_size, device="cpu")
    generator.greedy = GreedySettings(GENERATED_TOKENS, min_new_tokens=GENERATED_TOKENS)
    runs = timed_pair({"score": scorer, "generate": generator}, items, repeats)
    scored, generated = runs["score"]["responses"], runs["generate"]["responses"]
    tokens = scorer.score_tokens
    assert tokens is not None
    firsts = first_tokens(scorer, items)
    tokenizer = scorer.engine.tokenizer
    starts, agree, text_mismatch = 0, 0, 0
    for first, s, g in zip(firsts, scored, generated, strict=True):
        label = "fake" if first in tokens.fake else "real" if first in tokens.real else None
        if label is None:
            continue
        starts += 1
        agree += label == s.text
        text_mismatch += not (g.text or "").startswith(tokenizer.decode([first]).strip())
    n = len(items)

    def figures(mode: str) -> dict[str, float]:
        wall, cpu = statistics.median(runs[mode]["wall"]), statistics.median(runs[mode]["cpu"])
        return {
            "seconds_median": round(wall, 4),
            "samples_per_s": round(n / wall, 2),
            "cpu_seconds_median": round(cpu, 4),
            "samples_per_cpu_s": round(n / cpu, 2),
        }

    score, generate = figures("score"), figures("generate")
    return {
        "model": name,
        "n_samples": n,
        "batch_size": batch_size,
        "score": {**score, "errors": sum(r.error is not None for r in scored)},
        "generate_64": {
            **generate,
            "completion_tokens": sum((r.usage or {}).get("completion_tokens", 0) for r in generated),
            "errors": sum(r.error is not None for r in generated),
        },
        "speedup_score_vs_generate": round(score["samples_per_s"] / generate["samples_per_s"], 1),
        "speedup_cpu_time": round(score["samples_per_cpu_s"] / generate["samples_per_cpu_s"], 1),
        "verdicts": {
            "answers_starting_with_a_verdict": starts,
            "score_verdict_agrees": agree,
            "agreement": round(agree / starts, 4) if starts else None,
            "generated_text_not_starting_with_that_token": text_mismatch,
            "score_verdicts_fake": sum(r.text == "fake" for r in scored),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="samples per pass (default 64)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per mode (default 5)")
    parser.add_argument(
        "--margin",
        type=float,
        default=5.0,
        help="nats the verdict words lead every other token by (default 5)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: shared machine)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from fixtures.tiny_models import LLAVA_CHAT_TEMPLATE, build_tiny_llava, build_tiny_qwen2_vl

    torch.set_num_threads(args.threads)
    items = synthetic_items(args.n, args.image_size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        built = {
            "tiny-qwen2-vl": build_tiny_qwen2_vl(tmp / "qwen"),
            "tiny-llava": build_tiny_llava(tmp / "llava", chat_template=LLAVA_CHAT_TEMPLATE),
        }
        for name, folder in built.items():
            path = lean_towards_verdicts(folder, tmp / f"{name}-lean", items, args.margin)
            rows.append(compare(name, path, items, args.batch_size, args.repeats))
            print(json.dumps(rows[-1]))
    report = {
        "benchmark": "hf_score",
        "command": "python benchmarks/bench_hf_score.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": "cpu",
        },
        "settings": {
            "generated_tokens": GENERATED_TOKENS,
            "image_size": args.image_size,
            "repeats": args.repeats,
            "verdict_margin_nats": args.margin,
            "models": "tiny random Qwen2-VL and LLaVA (hidden 32, 2 layers); the output rows of ' fake' and "
            "' real' set so that they lead every other token and split the samples (lean_towards_verdicts)",
        },
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
