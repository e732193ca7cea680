"""Build the demo set: real crops, generator training and sampling, clues, split files and manifest.

Every random choice comes from a stream seeded by ``(seed, stream id)``, each generator trains in its own
single-threaded process with deterministic torch kernels, and PNGs are written without metadata, so the
same seed on the same software versions gives the same bytes regardless of ``jobs``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import json
import multiprocessing
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from spotfake.harness.errors import SpotfakeError
from spotfake.tasks.demo import clues
from spotfake.tasks.demo.config import BuildConfig, TrainConfig, full
from spotfake.tasks.demo.crops import SIZE, SourcePlan, allocate, draw_crop, plan_sources, real_crops
from spotfake.tasks.demo.generators import FAMILIES
from spotfake.tasks.demo.manifest import MANIFEST_NAME, write_manifest
from spotfake.tasks.demo.measure import measure

PROMPT = "<image>Does the image looks real/fake?"
"""FakeClue's question, verbatim."""

SPLITS = ("train", "test")
STREAM_PLAN, STREAM_REAL, STREAM_GENERATOR_CROPS, STREAM_ORDER, STREAM_CLUES, STREAM_FAMILY = (
    1,
    2,
    3,
    4,
    5,
    100,
)


@dataclass
class Item:
    """One image of the set before it is written."""

    split: str
    label: str
    source: str
    category: str
    generator: str
    pixels: np.ndarray
    image: str = ""


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def _torch_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, STREAM_FAMILY, index]).generate_state(1)[0])


def encode_png(pixels: np.ndarray) -> bytes:
    """Deterministic PNG bytes (no metadata, fixed compression) of a uint8 RGB array."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def train_and_sample(
    family: str,
    images: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    config: TrainConfig,
    torch_seed: int,
    requests: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], float]:
    """Train one family and sample the requested source labels per split (runs in a worker process)."""
    from spotfake.tasks.demo.generators.common import deterministic_torch

    start = time.process_time()
    module = importlib.import_module(FAMILIES[family])
    generator = deterministic_torch(torch_seed)
    model = module.train(images, labels, n_classes, config, generator)
    out: dict[str, np.ndarray] = {}
    for split in SPLITS:
        wanted = requests.get(split)
        if wanted is not None and len(wanted):
            out[split] = np.concatenate(
                [
                    module.sample(model, wanted[i : i + 256], config, generator)
                    for i in range(0, len(wanted), 256)
                ]
            )
    return out, time.process_time() - start


def _source_labels(plans: list[SourcePlan], counts: list[int], rng: np.random.Generator) -> np.ndarray:
    labels = np.concatenate([np.full(n, i, dtype=np.int64) for i, n in enumerate(counts)])
    return labels[rng.permutation(len(labels))]


def _real_items(plans: list[SourcePlan], config: BuildConfig, seed: int) -> dict[str, list[Item]]:
    rng = _rng(seed, STREAM_REAL)
    items: dict[str, list[Item]] = {}
    for split in SPLITS:
        total = config.real[split]
        faces = [p for p in plans if p.source.faces]
        n_faces = min(
            sum(len(r.faces) for p in faces for r in p.regions_of(split)), round(total * config.face_share)
        )
        photos = [p for p in plans if not p.source.faces]
        counts = dict(
            zip(
                [p.source.name for p in photos],
                allocate(total - n_faces, [p.source.weight for p in photos]),
                strict=True,
            )
        )
        for plan in faces:
            counts[plan.source.name] = n_faces // len(faces)
        split_items = []
        for plan in plans:
            for pixels in real_crops(plan, split, counts[plan.source.name], rng):
                split_items.append(
                    Item(split, "real", plan.source.name, plan.source.category, "real", pixels)
                )
        items[split] = split_items
    return items


def _generator_crops(
    plans: list[SourcePlan], config: BuildConfig, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed, STREAM_GENERATOR_CROPS)
    weights = [p.source.weight if not p.source.faces else 1 for p in plans]
    counts = allocate(config.generator_crops, weights)
    images, labels = [], []
    for index, (plan, n) in enumerate(zip(plans, counts, strict=True)):
        for _ in range(n):
            images.append(draw_crop(plan, "train", rng, flip=True))
            labels.append(index)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _fake_requests(
    plans: list[SourcePlan], real: dict[str, list[Item]], config: BuildConfig, seed: int
) -> dict[str, dict[str, np.ndarray]]:
    names = [p.source.name for p in plans]
    requests: dict[str, dict[str, np.ndarray]] = {}
    for index, family in enumerate(config.fakes):
        rng = _rng(seed, STREAM_FAMILY, index, 1)
        requests[family] = {}
        for split in SPLITS:
            n = config.fakes[family].get(split, 0)
            if n:
                share = [sum(1 for item in real[split] if item.source == name) for name in names]
                requests[family][split] = _source_labels(plans, allocate(n, share), rng)
    return requests


def _run_families(
    images: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    config: BuildConfig,
    seed: int,
    requests: dict[str, dict[str, np.ndarray]],
    jobs: int,
    log: Callable[[str], None],
) -> dict[str, dict[str, np.ndarray]]:
    families = list(config.fakes)
    args = {
        family: (
            family,
            images,
            labels,
            n_classes,
            config.training[family],
            _torch_seed(seed, i),
            requests[family],
        )
        for i, family in enumerate(families)
    }
    results: dict[str, dict[str, np.ndarray]] = {}
    if jobs <= 1:
        for family in families:
            results[family], seconds = train_and_sample(*args[family])
            log(f"  {family}: trained and sampled in {seconds:.1f} CPU s")
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(families)), mp_context=context) as pool:
        # the last families of the config (the held-out diffusion model) are the slowest: start them first
        futures = {family: pool.submit(train_and_sample, *args[family]) for family in reversed(families)}
        for family in families:
            results[family], seconds = futures[family].result()
            log(f"  {family}: trained and sampled in {seconds:.1f} CPU s")
    return results


def _name_items(items: list[Item]) -> None:
    """FakeClue's layout: ``<source>/real/<n>.png`` and ``<source>/fake/<generator>-<n>.png``."""
    counters: dict[str, int] = {}
    for item in items:
        key = f"{item.source}/real/" if item.label == "real" else f"{item.source}/fake/{item.generator}-"
        counters[key] = counters.get(key, 0) + 1
        item.image = f"{key}{counters[key]:04d}.png"


def _record(item: Item, clue: str) -> dict[str, Any]:
    return {
        "image": item.image,
        "label": 1 if item.label == "real" else 0,
        "cate": item.category,
        "width": SIZE,
        "height": SIZE,
        "conversations": [{"from": "human", "value": PROMPT}, {"from": "gpt", "value": clue}],
        "generator": item.generator,
        "source": item.source,
    }


def _versions() -> dict[str, str]:
    import PIL
    import scipy
    import sklearn
    import torch

    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": torch.__version__,
        "pillow": PIL.__version__,
        "scipy": scipy.__version__,
        "scikit-image": importlib.metadata.version("scikit-image"),
        "scikit-learn": sklearn.__version__,
    }


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _prepare_output(output: Path) -> Path:
    if output.exists() and any(output.iterdir()) and not (output / MANIFEST_NAME).exists():
        raise SpotfakeError(
            f"{output} exists and is not a demo build (no {MANIFEST_NAME}); choose an empty --output folder"
        )
    staging = output.parent / f".{output.name}.building"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def build(
    output: Path,
    seed: int,
    *,
    jobs: int = 1,
    config: BuildConfig | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the demo set into ``output`` (replaced as a whole at the end); returns the build summary."""
    config = config or full()
    output = Path(output)
    staging = _prepare_output(output)
    wall = time.time()

    log(f"demo build ({config.name}), seed {seed}: loading source photos")
    plans = plan_sources(_rng(seed, STREAM_PLAN))
    real = _real_items(plans, config, seed)
    images, labels = _generator_crops(plans, config, seed)
    requests = _fake_requests(plans, real, config, seed)
    log(
        f"  {sum(len(v) for v in real.values())} real crops, {len(images)} generator training crops; "
        f"training {', '.join(config.fakes)} with {jobs} job(s)"
    )
    samples = _run_families(images, labels, len(plans), config, seed, requests, jobs, log)

    items: dict[str, list[Item]] = {}
    for split in SPLITS:
        split_items = list(real[split])
        for family in config.fakes:
            if split not in samples[family]:
                continue
            for pixels, label in zip(samples[family][split], requests[family][split], strict=True):
                plan = plans[int(label)]
                split_items.append(
                    Item(split, "fake", plan.source.name, plan.source.category, family, pixels)
                )
        _name_items(split_items)
        order = _rng(seed, STREAM_ORDER, SPLITS.index(split)).permutation(len(split_items))
        items[split] = [split_items[i] for i in order]

    log("  measuring images and writing clues")
    measured = {split: [measure(item.pixels) for item in items[split]] for split in SPLITS}
    stats = clues.real_statistics(
        [m for item, m in zip(items["train"], measured["train"], strict=True) if item.label == "real"]
    )
    evidence: dict[str, dict[str, Any]] = {}
    for s_index, split in enumerate(SPLITS):
        records, split_evidence = [], {}
        for index, (item, props) in enumerate(zip(items[split], measured[split], strict=True)):
            rng = _rng(seed, STREAM_CLUES, s_index, index)
            writer = clues.real_clue if item.label == "real" else clues.fake_clue
            text, keys = writer(props, stats, item.category, rng)
            records.append(_record(item, text))
            split_evidence[item.image] = {"properties": props, "evidence": keys}
            path = staging / split / item.image
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode_png(item.pixels))
        _write_json(staging / "data_json" / f"{split}.json", records)
        evidence[split] = split_evidence

    counts = {
        split: {gen: sum(1 for i in items[split] if i.generator == gen) for gen in ["real", *config.fakes]}
        for split in SPLITS
    }
    summary: dict[str, Any] = {
        "seed": seed,
        "config": config.describe(),
        "counts": counts,
        "sources": [
            {
                "name": p.source.name,
                "category": p.source.category,
                "package": p.source.package,
                "loader": p.source.loader,
                "licence": p.source.licence,
                "attribution": p.source.attribution,
                "regions": [
                    {"split": r.split, "rows": list(r.rows) if r.rows else None, "faces": list(r.faces)}
                    for r in p.regions
                ],
            }
            for p in plans
        ],
        "versions": _versions(),
    }
    _write_json(staging / "build.json", summary)
    _write_json(
        staging / "clue_evidence.json",
        {
            "thresholds": {name: vars(band) for name, band in stats.items()},
            "splits": evidence,
        },
    )
    write_manifest(staging, seed=seed, profile=config.name)
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)
    log(f"  wrote {output} in {time.time() - wall:.1f} s")
    return summary
