"""Resources of the knowledge pipeline: which repo to index, the embedding model, Neo4j.

Every field is optional and falls back to ``settings`` (``REPO_PATH``, ``ENTRIES``,
``RUNTIME_TRACE_DIR``, ``EMBEDDING_MODEL``, ``NEO4J_*``) when left unset, rather than being a
required ``dg.EnvVar``: an unset ``NEO4J_URI`` must mean "mirror skipped", not "code location
fails to load". Any field can be overridden per run in the launchpad / run config under
``resources: {code_repo: {config: {repo_path: ..., entries: [...]}}}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from cogo_pipelines.indexing import embedding
from cogo_pipelines.indexing import policy as index_policy
from cogo_pipelines.settings import get_settings, reload_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class CodeRepoResource(dg.ConfigurableResource):
    """The repository to index and how: root, entries, trace folder, quality bound.

    ``name``, ``include``, ``exclude`` and ``entries`` are the flags layer of the index policy
    (``indexing/policy.py``): over the repo's ``cogo.toml``, over ``REPO_NAME``/``INDEX_*``/``ENTRIES``.
    """

    repo_path: str | None = None
    entries: list[str] | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None
    name: str | None = None
    trace_dir: str | None = None
    path_prefix_map: dict[str, str] = Field(default_factory=dict)
    min_resolved_ratio: float = 0.8

    def root(self) -> Path:
        """The repo folder; a relative path is tried from the cwd, then from the project root."""
        path = Path(self.repo_path) if self.repo_path else get_settings().repo_path
        if not path.is_absolute() and not path.exists() and (PROJECT_ROOT / path).exists():
            path = PROJECT_ROOT / path
        return path.resolve()

    def policy(self) -> index_policy.IndexPolicy:
        """The index policy in force (the same one ``cogo index`` would use on this root)."""
        flags = index_policy.Layer.of("run config", self.name, self.include, self.exclude, self.entries)
        return index_policy.resolve(self.root(), flags, index_policy.env_layer(get_settings()))

    def prepare(self) -> index_policy.Prepared:
        """The policy applied: files, entries (globs matched) and what was left out."""
        flags = index_policy.Layer.of("run config", self.name, self.include, self.exclude, self.entries)
        return index_policy.prepare(self.root(), flags, index_policy.env_layer(get_settings()))

    def repo(self) -> str:
        return self.policy().name

    def entry_paths(self) -> list[str]:
        """The indexed files the entries name (globs matched), then the entries that name none."""
        prepared = self.prepare()
        return prepared.entries + prepared.unmatched_entries

    def traces(self) -> Path:
        return Path(self.trace_dir) if self.trace_dir else get_settings().traces_dir


class EmbeddingModelResource(dg.ConfigurableResource):
    """The sentence-transformers model; unset = ``EMBEDDING_MODEL`` or the bundled MiniLM."""

    model: str | None = None

    @contextmanager
    def active(self) -> Iterator[str]:
        """Make the embedding core use this model for the duration of a step."""
        if not self.model or self.model == get_settings().embedding_model:
            yield embedding.model_key()
            return
        previous = os.environ.get("EMBEDDING_MODEL")
        os.environ["EMBEDDING_MODEL"] = self.model
        reload_settings()
        try:
            yield embedding.model_key()
        finally:
            if previous is None:
                os.environ.pop("EMBEDDING_MODEL", None)
            else:
                os.environ["EMBEDDING_MODEL"] = previous
            reload_settings()


class Neo4jResource(dg.ConfigurableResource):
    """Connection settings of the optional mirror; no URI = mirror skipped.

    The password is deliberately not a config field (run config is shown in the UI): it comes
    only from ``NEO4J_PASSWORD``.
    """

    uri: str | None = None
    user: str | None = None
    database: str | None = None

    def connection(self) -> dict:
        s = get_settings()
        password = s.neo4j_password.get_secret_value() if s.neo4j_password else None
        return {
            "uri": self.uri or s.neo4j_uri,
            "user": self.user or s.neo4j_user,
            "password": password,
            "database": self.database or s.neo4j_database,
        }


defs = dg.Definitions(
    resources={
        "code_repo": CodeRepoResource(),
        "embedding_model": EmbeddingModelResource(),
        "neo4j": Neo4jResource(),
    }
)
