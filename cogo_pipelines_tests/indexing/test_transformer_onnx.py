"""The shipped MiniLM run by ONNX Runtime gives the vectors sentence-transformers gives, without
importing torch once exported; a model it cannot export keeps the torch path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cogo_pipelines.indexing import embedding, transformer_onnx

TEXTS = [
    "how does the job queue lease a claim",
    "x",
    "",
    "   padded   with   spaces   ",
    "export function retry(times: number) {\n  return backoff(times * 2) // ms\n}\n" * 4,
    "## Deploy\n\nRun `docker compose up` with the seven variables of .env.example.",
    "ünïcödé naïve café — 日本語のテキスト",
    "word " * 400,  # past the model's 256 tokens: cut as sentence-transformers cuts it
]


@pytest.fixture
def transformer(database_url: str) -> str:  # the database_url fixture: a COGO_HOME with the session's models
    return embedding.model_name(embedding.TRANSFORMER_NAME)


def torch_vectors(name: str, texts: list[str]) -> np.ndarray:
    return embedding._load(name).encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=3)


def test_onnx_vectors_equal_the_torch_vectors(transformer: str) -> None:
    got = embedding.encode(TEXTS, model=embedding.TRANSFORMER_NAME, batch_size=3)
    assert isinstance(embedding.get_model(embedding.TRANSFORMER_NAME), transformer_onnx.Encoder)
    want = torch_vectors(transformer, TEXTS)
    assert got.shape == (len(TEXTS), embedding.DIMENSIONS) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * want).sum(axis=1)
    assert cosines.min() > 0.99999, cosines
    # one text alone (a question) equals the same text inside a padded batch
    alone = embedding.encode([TEXTS[0]], model=embedding.TRANSFORMER_NAME)
    assert float(alone[0] @ got[0]) > 0.99999


def test_a_process_with_the_export_never_imports_torch(transformer: str) -> None:
    embedding.encode(["export it once"], model=embedding.TRANSFORMER_NAME)
    code = ("import sys; from cogo_pipelines.indexing import embedding;"
            " v = embedding.encode(['a question'], model='minilm');"
            " print(v.shape, 'torch' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True)  # fmt: skip
    assert out.stdout.split() == ["(1,", "384)", "False"], out.stdout + out.stderr


def test_a_model_it_cannot_export_runs_on_torch(transformer: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Max pooling is not what the exporter knows: the folder is refused and torch serves it."""
    source = Path(transformer)
    copy = tmp_path / "max-pooled"
    (copy / "1_Pooling").mkdir(parents=True)
    for item in source.iterdir():
        if item.is_file():
            (copy / item.name).symlink_to(item)
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    (copy / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    exports: list[str] = []
    export = transformer_onnx.export
    monkeypatch.setattr(transformer_onnx, "export", lambda source, target: exports.append(source) or export(source, target))
    assert transformer_onnx.encoder(str(copy), embedding.model_key(str(copy))) is None
    vectors = embedding.encode(["a question"], model=str(copy))
    embedding.encode(["another question"], model=str(copy))
    assert exports == [str(copy)]  # refused once for the process, not at every encode
    assert vectors.shape == (1, embedding.DIMENSIONS)
    assert not isinstance(embedding.get_model(str(copy)), transformer_onnx.Encoder)
    assert not transformer_onnx.folder(Path(os.environ["COGO_HOME"]), embedding.model_key(str(copy))).exists()


def test_an_export_that_gives_other_vectors_is_not_kept(transformer: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The export checks its file against torch before it is kept: a check that fails leaves no folder."""
    monkeypatch.setattr(transformer_onnx, "MIN_COSINE", 1.5)  # no vectors can pass
    target = tmp_path / "onnx" / "minilm"
    with pytest.raises(transformer_onnx.Unsupported, match="other vectors"):
        transformer_onnx.export(transformer, target)
    assert not target.exists() and list((tmp_path / "onnx").iterdir()) == []
