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


@pytest.fixture
def database_url(pg_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database; DATABASE_URL and COGO_HOME point at it for the test."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    url = pg_server.get_uri(name)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("COGO_HOME", str(tmp_path / "cogo_home"))
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
