"""The static model's folder, its tokenizer, and one query's vector in plain Python.

Why apart from ``static_embedding``: a ``cogo search`` process encodes one short text, a dozen
token rows of a 30k-row table, and importing numpy to do it cost ~0.09 s of a ~0.5 s process
(more than the search's own SQL). Here the rows are read straight from ``model.safetensors``
(an 8-byte header length, a JSON header, then the raw little-endian table) with ``struct`` and
averaged in Python floats. ``static_embedding`` keeps the numpy paths: distilling, and the
batches of an index run. Both tokenise and cut texts alike (``tokenizer``, ``max_chars``), and
the tests hold their vectors equal.
"""

from __future__ import annotations

import json
import math
import statistics
import struct
from functools import lru_cache
from pathlib import Path

DIMENSIONS = 384
STATIC_NAME = "minilm-static"  # the setting value (EMBEDDING_MODEL) that selects this model
RECIPE = "model2vec-mean-pca384-sif1e-4-v1"  # how ``static_embedding`` distils it; part of the cache key
MAX_TOKENS = 1024  # a chunk is at most ~4,000 characters; this bounds a pathological one
TABLE = "embeddings"  # the tensor holding one row per vocabulary token
# safetensors dtypes a row can be read from with ``struct`` (others: ``static_embedding``'s numpy)
_FORMATS = {"F16": "e", "F32": "f", "F64": "d"}
_HEADER_LIMIT = 100 * 1024 * 1024  # safetensors' own bound on the JSON header


def model_dir(home: Path) -> Path:
    return home / "models" / STATIC_NAME


def is_distilled(target: Path) -> bool:
    return (target / "model.safetensors").exists() and (target / "cogo.json").exists()


def check_dims(path: str, dims: int) -> None:
    if dims != DIMENSIONS:
        raise ValueError(f"static model {path} gives {dims} dimensions; the store holds vector({DIMENSIONS})")


@lru_cache(maxsize=2)
def tokenizer(path: str):
    """(tokenizer, unknown token id, tokens kept per text) of a model2vec folder.

    Read with ``tokenizers`` alone: importing ``model2vec`` pulls in ``huggingface_hub``
    (~0.4 s), more than the rest of a ``cogo search`` call."""
    from tokenizers import Tokenizer

    folder = Path(path)
    try:
        max_tokens = int(json.loads((folder / "config.json").read_text()).get("max_length") or MAX_TOKENS)
    except (OSError, ValueError):
        max_tokens = MAX_TOKENS
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_tokens)
    unk_name = getattr(tok.model, "unk_token", None)
    return tok, (tok.token_to_id(unk_name) if unk_name else None), max_tokens


@lru_cache(maxsize=2)
def max_chars(path: str) -> int:
    """model2vec cuts a text at ``max_length × median token length`` characters before tokenising."""
    tok, _, max_tokens = tokenizer(path)
    return max_tokens * int(statistics.median(len(t) for t in tok.get_vocab()))


def token_ids(path: str, text: str) -> list[int]:
    """The text's token ids as model2vec counts them: cut, no special tokens, unknowns left out."""
    tok, unk, max_tokens = tokenizer(path)
    if len(text) > max_tokens:  # at least one character per token: else no cut
        text = text[: max_chars(path)]
    ids = tok.encode(text, add_special_tokens=False).ids
    return [t for t in ids if t != unk] if unk is not None else list(ids)


@lru_cache(maxsize=2)
def table_layout(path: str) -> tuple[int, int, int, str] | None:
    """(file offset of row 0, rows, dimensions, struct format of one value) of the token table,
    or None when its dtype is not one ``struct`` reads."""
    with open(Path(path) / "model.safetensors", "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        if size > _HEADER_LIMIT:
            raise ValueError(f"static model {path}: model.safetensors has a malformed header")
        header = json.loads(f.read(size))
    entry = header[TABLE]
    rows, dims = entry["shape"]
    check_dims(path, dims)
    fmt = _FORMATS.get(entry["dtype"])
    return None if fmt is None else (8 + size + entry["data_offsets"][0], rows, dims, fmt)


def encode_one(path: str, text: str) -> list[float] | None:
    """The text's normalised vector (the mean of its token rows), or None when the table's dtype
    needs numpy. The same arithmetic as ``static_embedding.encode``: an empty text (no tokens)
    gets the fixed unit vector of ones, similar to nothing in particular."""
    layout = table_layout(path)
    if layout is None:
        return None
    start, rows, dims, fmt = layout
    ids = token_ids(path, text)
    row = struct.Struct(f"<{dims}{fmt}")
    total = [0.0] * dims
    with open(Path(path) / "model.safetensors", "rb") as f:
        for token in ids:
            if not 0 <= token < rows:
                raise ValueError(f"static model {path}: token {token} is not in its table")
            f.seek(start + token * row.size)
            for i, x in enumerate(row.unpack(f.read(row.size))):
                total[i] += x if math.isfinite(x) else 0.0
    mean = [x / len(ids) for x in total] if ids else total
    norm = math.sqrt(sum(x * x for x in mean))
    if norm < 1e-6:
        mean, norm = [1.0] * dims, math.sqrt(dims)
    return [x / norm for x in mean]
