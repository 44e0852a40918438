"""Knowledge fixtures: the sample's chunk vectors are computed once per session and seeded
into each test's fresh database, so tests about incremental work or search do not pay for
the model again (the embedding itself is tested in test_embedding.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from cogo_pipelines.indexing import chunking, embedding, sources, typescript
from cogo_pipelines.store import knowledge


def repo_texts(root: Path) -> dict[str, str]:
    """text hash -> embed text of every chunk of a repo, as the index would make them."""
    out = {}
    for f in sources.discover(root):
        data = (root / f.path).read_bytes()
        extraction = tree = None
        if f.language in ("typescript", "tsx"):
            extraction = typescript.extract_file(f.path, data)
            tree = typescript.parse(data, typescript.is_tsx(f.path))
        for c in chunking.chunk_file(f, data, extraction, tree).chunks:
            out[embedding.text_hash(c.embed_text())] = c.embed_text()
    return out


@pytest.fixture(scope="session")
def sample_vectors(sample_repo_path: Path) -> dict[str, np.ndarray]:
    texts = repo_texts(sample_repo_path)
    hashes = list(texts)
    return dict(zip(hashes, embedding.encode([texts[h] for h in hashes]), strict=True))


@pytest.fixture(scope="session")
def sample_repo_path() -> Path:
    return Path(__file__).resolve().parents[2] / "examples" / "cogo-sample"


def seed_embeddings(conn, vectors: dict[str, np.ndarray]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO chunk_embeddings (content_hash, model, embedding) VALUES (%s, %s, %s::vector) ON CONFLICT DO NOTHING",
            [(h, embedding.model_key(), knowledge.vector_literal(v)) for h, v in vectors.items()],
        )
    conn.commit()


@pytest.fixture
def seeded_conn(conn, sample_vectors):
    seed_embeddings(conn, sample_vectors)
    return conn


@pytest.fixture
def sample_copy(tmp_path: Path, sample_repo_path: Path) -> Path:
    """A private copy of the sample (tests edit it); same folder name, so the same repo id."""
    dest = tmp_path / "cogo-sample"
    shutil.copytree(sample_repo_path, dest, ignore=shutil.ignore_patterns("node_modules"))
    return dest


# a question about the sample whose summary list differs from its hybrid ranking
BUILD_QUESTION = "what stops a build when too many jobs fail"


class GivenSummaryModel:
    """The summary model's interface (``knowledge.SummaryModel``) over a vector made beforehand
    (by the real model, or a stored one); it records the questions it was asked."""

    def __init__(self, key: str, vector: list[float]) -> None:
        self.key, self._vector, self.asked, self.noticed = key, vector, [], 0

    def vector(self, text: str) -> list[float]:
        self.asked.append(text)
        return self._vector

    def notice_incomplete(self) -> None:
        self.noticed += 1
