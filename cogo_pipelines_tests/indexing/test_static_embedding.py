"""The static model distilled from the shipped MiniLM: real distillation, real store, no torch
on the query path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cogo_pipelines.indexing import static_embedding


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory):
    """Distilled once for the module from the packaged MiniLM (~30 s on 2 cores)."""
    return static_embedding.distill(tmp_path_factory.mktemp("models") / static_embedding.STATIC_NAME)


@pytest.mark.slow
def test_distilled_model_gives_normalised_384_dim_vectors_that_keep_meaning(static_dir):
    assert static_embedding.is_distilled(static_dir)
    v = static_embedding.encode(str(static_dir), ["renew the lease of a job", "the lease of a job is renewed",
                                                   "draw the chart legend", ""])  # fmt: skip
    assert v.shape == (4, static_embedding.DIMENSIONS) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
    assert static_embedding.encode(str(static_dir), []).shape == (0, static_embedding.DIMENSIONS)
    card = (static_dir / "README.md").read_text()  # names the model, not the temporary folder or a local path
    assert "model_name: minilm-static\n" in card and ".partial-" not in card and str(static_dir.parent) not in card
    assert "site-packages" not in card + (static_dir / "config.json").read_text()


@pytest.mark.slow
def test_query_encoding_never_imports_torch_nor_model2vec(static_dir):
    code = (
        "import sys; from cogo_pipelines.indexing import static_embedding as s;"
        f"v = s.encode({str(static_dir)!r}, ['where are jobs claimed']);"
        "assert v.shape == (1, 384); print('torch' in sys.modules, 'model2vec' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.slow
def test_numpy_encoding_matches_model2vec(static_dir):
    """Our table look-up gives model2vec's own vectors (so a folder made by model2vec, or a
    vector cached before, means the same), including truncation and unknown tokens."""
    texts = ["how are uploads limited", "computeLeaseExpiry(job) ⟶ 日本語 ☃", "x " * 5000, "lease " * 3]
    ours = static_embedding.encode(str(static_dir), texts)
    theirs = static_embedding.load(str(static_dir)).encode(texts, normalize=True, use_multiprocessing=False)
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    assert np.allclose(ours, theirs, atol=2e-3)
    # a batch (index) reads the whole table, a few texts (a query) only their rows: same vectors
    batch = static_embedding.encode(str(static_dir), texts * (static_embedding.FEW_TEXTS // len(texts) + 1))
    assert np.allclose(batch[: len(texts)], theirs, atol=2e-3)


def _mini_repo(tmp_path):
    """Two files whose questions share no word with them: only vectors find them."""
    repo = tmp_path / "mini"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "lease.ts").write_text(
        "/** Extends the lease of a claimed job so no other runner takes it. */\n"
        "export function renewLease(jobId: string, seconds: number) { return { jobId, seconds }; }\n"
    )
    (repo / "src" / "chart.ts").write_text(
        "/** Draws the colour legend under a chart. */\nexport function drawLegend(colors: string[]) { return colors; }\n"
    )
    return repo


@pytest.mark.slow
def test_index_and_search_with_the_static_model(static_dir, conn, monkeypatch, tmp_path):
    """The default model end to end: chunks get static vectors in the store, vector search finds them."""
    from pathlib import Path

    from cogo_pipelines import settings
    from cogo_pipelines.indexing import embedding
    from cogo_pipelines.pipeline import index_run
    from cogo_pipelines.store import knowledge

    monkeypatch.setenv("EMBEDDING_MODEL", str(static_dir))
    settings.reload_settings()
    try:
        assert embedding.is_static()
        repo = _mini_repo(tmp_path)
        summary = index_run.run_index(conn, Path(repo), trace_dir=tmp_path / "no-traces")
        assert summary.embedded >= 2
        assert knowledge.index_stats(conn, "mini")["embedded"] == summary.chunks
        hits = knowledge.search(conn, "keep a job reserved for longer", k=2, repo="mini", mode="vector")
        assert hits[0].path == "src/lease.ts"
    finally:
        monkeypatch.delenv("EMBEDDING_MODEL")
        settings.reload_settings()


@pytest.mark.slow
def test_a_query_vector_read_in_plain_python_is_the_numpy_one(static_dir, tmp_path):
    """``static_model.encode_one`` (a search process's path, no numpy) gives the index's numpy vectors:
    truncation, unknown tokens and empty texts included; a table ``struct`` cannot read leaves the
    query to numpy, and a malformed file is a clear error."""
    from cogo_pipelines.indexing import static_model

    texts = ["how are uploads limited", "computeLeaseExpiry(job) ⟶ 日本語 ☃", "x " * 5000, "lease " * 3, "", "\x00"]
    ours = np.array([static_model.encode_one(str(static_dir), t) for t in texts])
    batch = static_embedding.encode(str(static_dir), texts * 3)  # past FEW_TEXTS: the whole table, in numpy
    assert len(texts) * 3 > static_embedding.FEW_TEXTS
    assert np.abs(ours - batch[: len(texts)]).max() < 1e-6

    odd = tmp_path / "bf16"
    odd.mkdir()
    for name in ("tokenizer.json", "config.json"):
        (odd / name).write_bytes((static_dir / name).read_bytes())
    header = b'{"embeddings":{"dtype":"BF16","shape":[2,384],"data_offsets":[0,1536]}}'
    (odd / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bytes(1536))
    assert static_model.encode_one(str(odd), "lease") is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="malformed header"):
        static_model.encode_one(str(broken), "lease")


@pytest.mark.slow
def test_cogo_search_encodes_its_query_without_numpy(static_dir, database_url, tmp_path):
    """A real index with static vectors, then a real `cogo search`: its query was encoded (the
    tokenizer loaded), it finds the file, and in the same process numpy was never imported."""
    import json
    import os

    repo = _mini_repo(tmp_path)
    env = dict(os.environ, EMBEDDING_MODEL=str(static_dir))
    cli = "from cogo_pipelines.cli import main; main()"
    indexed = subprocess.run([sys.executable, "-c", cli, "index", str(repo), "--json"], env=env,
                             capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert indexed.returncode == 0 and json.loads(indexed.stdout)["embedded"] >= 2, indexed.stderr
    code = (
        "import sys; sys.argv = ['cogo', 'search', 'keep a job reserved for longer', '--json', '--k', '1']\n"
        "from cogo_pipelines import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('tokenizers' in sys.modules, 'numpy' in sys.modules, 'torch' in sys.modules)"
    )
    searched = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                              check=False)  # fmt: skip
    *answer, imported = searched.stdout.strip().splitlines()
    assert json.loads("\n".join(answer))[0]["path"] == "src/lease.ts", searched.stdout + searched.stderr
    assert imported == "True False False"
