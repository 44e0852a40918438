"""One real embedded PostgreSQL (pgvector, pg_trgm) per test session; a fresh database per test.

A template database is migrated once; each test gets ``CREATE DATABASE … TEMPLATE`` (tens of
milliseconds) and ``DATABASE_URL`` pointing at it, so code under test, subprocesses included,
connect exactly as they do in production.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from cogo_pipelines import settings as settings_module
from cogo_pipelines.store import db

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_REPO = REPO_ROOT / "examples" / "cogo-sample"
TEMPLATE_DB = "cogo_template"
# fixtures of areas whose tests sit in several folders (the folders mirror the package)
pytest_plugins = ("cogo_pipelines_tests.plugins.knowledge", "cogo_pipelines_tests.plugins.quality")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The summary model is a transformer (~10 s and ~500 MB to load): every sidecar and MCP server a
# test starts would load it in the background. Off here; the tests of summaries turn it on.
os.environ.setdefault("SUMMARY_MODEL", "off")
# `cogo search` leaves a warm server behind (warm_search.py), one per interpreter: the suite's
# hundreds of searches in fresh stores would all share it. Off here; its own tests turn it on.
os.environ.setdefault("COGO_WARM_SEARCH", "0")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    with psycopg.connect(server.get_uri(TEMPLATE_DB), row_factory=dict_row) as conn:
        db.migrate(conn)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def static_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default static model, distilled once for the session: the one `make setup` made under
    the checkout's ``.cogo``, else a fresh distillation (~2 min). Each test's COGO_HOME links it,
    so a test that embeds does not distil it again in its own empty home."""
    from cogo_pipelines.indexing import static_model

    made = static_model.model_dir(REPO_ROOT / ".cogo")
    if static_model.is_distilled(made):
        return made.resolve()
    from cogo_pipelines.indexing import static_embedding

    return static_embedding.distill(static_model.model_dir(tmp_path_factory.mktemp("home")))


@pytest.fixture(scope="session")
def onnx_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's ONNX exports of the transformer live (``transformer_onnx``): the
    folder `make setup` exported into under the checkout's ``.cogo``, else an empty one the first
    test that encodes with the transformer exports into (~10 s, once). Each test's COGO_HOME links it."""
    made = REPO_ROOT / ".cogo" / "models" / "onnx"
    return made.resolve() if made.is_dir() else tmp_path_factory.mktemp("onnx")


@pytest.fixture
def database_url(pg_server, static_model_dir: Path, onnx_models_dir: Path, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database; DATABASE_URL and COGO_HOME point at it for the test (the
    home holds links to the session's static model and ONNX exports, nothing else)."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    url = pg_server.get_uri(name)
    home = tmp_path / "cogo_home"
    (home / "models").mkdir(parents=True)
    (home / "models" / static_model_dir.name).symlink_to(static_model_dir, target_is_directory=True)
    (home / "models" / "onnx").symlink_to(onnx_models_dir, target_is_directory=True)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("COGO_HOME", str(home))
    settings_module.reload_settings()
    yield url
    settings_module.reload_settings()
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with db.connect(database_url) as connection:
        yield connection


@pytest.fixture
def sample_repo() -> Path:
    return SAMPLE_REPO
