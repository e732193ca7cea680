"""Benchmark: spotfake's ROUGE-L against rouge-score called per pair, on 5,000 FakeClue-length pairs.

Both run in this one process on the same pairs; the script prints and stores (benchmarks/results/rouge.json)
the two times, the speed-up and the largest |difference| between the values (expected: 0).

    nice .venv/bin/python benchmarks/bench_rouge.py [--pairs 5000] [--seed 0]

The pairs come from a deterministic generator of artifact explanations in FakeClue's style ("This is a
fake image. ..."), about 60 words each; a "response" is a reworded variant of its reference, as a model's
explanation would be.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

SUBJECTS = [
    "the fingers of the left hand",
    "the hands",
    "the eyes",
    "the pupils",
    "the teeth",
    "the strands of hair around the ears",
    "the skin pores on the forehead",
    "the edges of the face",
    "the background buildings",
    "the characters on the sign",
    "the letters on the document",
    "the shadows under the car",
    "the reflections in the window",
    "the patches of fur on the animal",
    "the leaves of the trees",
    "the road markings",
    "the roof outlines in the satellite view",
    "the highlights on the cheeks",
    "the earrings",
    "the frames of the glasses",
]
FAKE_PREDICATES = [
    "are blurred and merge into the background",
    "show an inconsistent number of joints",
    "appear unnaturally smooth, like plastic",
    "have irregular, asymmetric shapes",
    "contain distorted and unreadable characters",
    "do not match the direction of the main light source",
    "show repeated patterns typical of generative models",
    "have abrupt color transitions at the boundaries",
    "lack fine texture detail where it would be expected",
    "are duplicated in a physically impossible way",
    "bend in ways that break the perspective of the scene",
    "have a waxy sheen and overly uniform color",
]
REAL_PREDICATES = [
    "show natural texture with fine, consistent detail",
    "follow the direction of the light source",
    "have plausible proportions and perspective",
    "contain sharp, readable characters",
    "show natural noise consistent with a camera sensor",
    "blend smoothly with their surroundings",
    "keep consistent reflections and shadows",
    "have the irregularities of a real photograph",
]
CONNECTORS = ["In addition,", "Moreover,", "Also,", "Furthermore,", "Notably,", "Besides,", ""]
OPENINGS = {
    "fake": [
        "This is a fake image.",
        "The image is AI-generated.",
        "This image appears to be synthetic.",
    ],
    "real": [
        "This is a real image.",
        "The image is an authentic photograph.",
        "This appears to be a real photo.",
    ],
}
CLOSINGS = {
    "fake": [
        "These artifacts indicate that the image was generated or manipulated.",
        "Overall, these clues reveal a synthetic origin.",
    ],
    "real": [
        "No generation artifacts are visible, so the image is authentic.",
        "Overall, the details are consistent with a real capture.",
    ],
}


def clause(rng: random.Random, label: str) -> str:
    """One artifact (or authenticity) observation, as a sentence."""
    predicates = FAKE_PREDICATES if label == "fake" else REAL_PREDICATES
    text = f"{rng.choice(SUBJECTS)} {rng.choice(predicates)}."
    connector = rng.choice(CONNECTORS)
    return f"{connector} {text}" if connector else text[0].upper() + text[1:]


def explanation(rng: random.Random, label: str, kept: Sequence[str] = (), target_words: int = 50) -> str:
    """One FakeClue-style explanation of about ``target_words`` words, reusing the ``kept`` clauses."""
    opening, closing = rng.choice(OPENINGS[label]), rng.choice(CLOSINGS[label])
    clauses = list(kept)
    words = len(opening.split()) + len(closing.split()) + sum(len(c.split()) for c in clauses)
    while words < target_words:
        clauses.append(clause(rng, label))
        words += len(clauses[-1].split())
    rng.shuffle(clauses)
    return " ".join([opening, *clauses, closing])


def make_pairs(n: int = 5000, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` (response, reference) pairs; a response keeps about half of its reference's observations."""
    rng = random.Random(seed)
    responses, references = [], []
    for _ in range(n):
        label = rng.choice(["fake", "fake", "real"])
        observations = [clause(rng, label) for _ in range(rng.randint(3, 5))]
        references.append(explanation(rng, label, observations))
        said = label if rng.random() < 0.9 else ("real" if label == "fake" else "fake")
        kept = [c for c in observations if rng.random() < 0.5] if said == label else []
        responses.append(explanation(rng, said, kept))
    return responses, references


def machine() -> dict[str, object]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from rouge_score import rouge_scorer

    from spotfake.harness.metrics import rouge_l_scores

    responses, references = make_pairs(args.pairs, args.seed)
    words = sum(len(t.split()) for t in responses + references) / (2 * len(responses))

    start = time.perf_counter()  # cold: no word stemmed yet in this process
    fast = rouge_l_scores(responses, [[r] for r in references])
    fast_s = time.perf_counter() - start

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    start = time.perf_counter()
    slow = [
        scorer.score(ref, resp)["rougeL"].fmeasure for resp, ref in zip(responses, references, strict=True)
    ]
    slow_s = time.perf_counter() - start

    diffs = [abs(a - b) for a, b in zip(fast, slow, strict=True)]
    figures = {
        "benchmark": "rouge_l",
        "pairs": len(responses),
        "mean_words_per_text": round(words, 1),
        "mean_rouge_l": round(sum(fast) / len(fast), 4),
        "rouge_score_per_pair_s": round(slow_s, 3),
        "spotfake_s": round(fast_s, 3),
        "speedup": round(slow_s / fast_s, 1),
        "max_abs_difference": max(diffs),
        "identical_pairs": sum(d == 0.0 for d in diffs),
        "rouge_score_version": version("rouge-score"),
        "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rouge.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
