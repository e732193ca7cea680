"""``css_clip77``: CSS with the CLIP text encoder, texts cut at 77 tokens, as FakeReasoning computes it.

Metric card: css_clip77.
Definition: ``cos(e(response), e(reference))`` where ``e`` is CLIP's projected text embedding
    (``CLIPTextModelWithProjection(...).text_embeds``, the same vector as ``CLIPModel.get_text_features``),
    L2-normalised, of the text tokenized by the folder's ``CLIPTokenizer`` with truncation at **77 tokens**
    (start and end tokens included, so about 75 word pieces: the rest of a longer text is not seen); max
    over references, empty response 0; the task value is the mean over the samples that have a reference.
    Values are higher than all-MiniLM's for unrelated texts (CLIP's text space is narrow), so they are never
    compared with ``css``.
Arguments: the CLIP folder is a scoring option (``--css-clip-model DIR``): a local copy of
    ``openai/clip-vit-large-patch14`` (FakeReasoning's ``--clip_path``; the whole CLIP model or its text
    part). The embedder id (folder name, "clip-text-77tok" and a hash of the weights) is recorded in
    ``results.json['scoring']['css_clip77_embedder']``; reference embeddings are cached on disk as CSS's.
Citation: FakeReasoning (Gao et al., PRIS-CV 2025), ``LLaVA/forgery_eval/eval.py`` ``similarity()``;
    Radford et al., "Learning Transferable Visual Models From Natural Language Supervision", ICML 2021.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spotfake.harness.errors import SpotfakeError
from spotfake.harness.metrics.css import CssScorer
from spotfake.harness.metrics.types import FloatArray

MAX_TOKENS = 77
"""CLIP's text context: FakeReasoning tokenizes with ``truncation=True`` at the tokenizer's 77."""

_ENCODERS: dict[tuple[str, str, str | None], ClipTextEncoder] = {}
"""Loaded CLIP text encoders by (embedder id, folder, device): one load per process."""


class ClipTextEncoder:
    """CLIP's tokenizer and projected text encoder, with the ``encode`` call :class:`CssScorer` makes."""

    def __init__(self, folder: Path, device: str | None = None) -> None:
        import torch
        from transformers import CLIPTextModelWithProjection, CLIPTokenizer

        try:
            self.tokenizer = CLIPTokenizer.from_pretrained(str(folder))
            self.model = CLIPTextModelWithProjection.from_pretrained(str(folder)).eval()
        except (OSError, ValueError, KeyError) as exc:
            raise SpotfakeError(
                f"cannot load a CLIP text encoder from {folder}: {str(exc).splitlines()[0][:200]}; "
                "give --css-clip-model a local copy of openai/clip-vit-large-patch14"
            ) from None
        positions = int(self.model.config.max_position_embeddings)
        if positions < MAX_TOKENS:
            raise SpotfakeError(
                f"{folder}: the CLIP text encoder has {positions} positions; css_clip77 needs {MAX_TOKENS}"
            )
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)

    def encode(self, texts: Sequence[str], batch_size: int = 64, **_: Any) -> FloatArray:
        """L2-normalised float32 text embeddings, one row per text (77 tokens at most each)."""
        import torch

        rows = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenizer(
                    list(texts[start : start + batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                ).to(self.device)
                embeds = self.model(**batch).text_embeds.float()
                rows.append(torch.nn.functional.normalize(embeds, dim=-1).cpu().numpy())
        return np.concatenate(rows).astype(np.float32)


class ClipTextScorer(CssScorer):
    """:class:`CssScorer` (max over references, blank response 0, on-disk reference cache) with CLIP's text
    encoder at 77 tokens in place of the sentence-transformers embedder."""

    def __init__(
        self,
        model_path: str | Path,
        cache_dir: str | Path | None = None,
        *,
        device: str | None = None,
        batch_size: int = 64,
    ) -> None:
        folder = Path(model_path).expanduser()
        if not folder.is_dir():
            raise SpotfakeError(
                f"CLIP folder not found: {folder}; give --css-clip-model a local copy of "
                "openai/clip-vit-large-patch14"
            )
        name = f"{folder.resolve().name}:clip-text-{MAX_TOKENS}tok"
        super().__init__(folder, cache_dir, device=device, batch_size=batch_size, name=name)

    def _encoder(self) -> Any:
        if self._model is None:
            key = (self.embedder_id, str(self.model_path.resolve()), self.device)
            if key not in _ENCODERS:
                _ENCODERS[key] = ClipTextEncoder(self.model_path, self.device)
            self._model = _ENCODERS[key]
        return self._model
