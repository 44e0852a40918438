"""Resources of the knowledge pipeline: which repo to index, the embedding model, Neo4j.

Every field is optional and falls back to ``settings`` (``REPO_PATH``, ``ENTRIES``,
``RUNTIME_TRACE_DIR``, ``EMBEDDING_MODEL``, ``NEO4J_*``) when left unset, rather than being a
required ``dg.EnvVar``: an unset ``NEO4J_URI`` must mean "mirror skipped", not "code location
fails to load". Any field can be overridden per run in the launchpad / run config under
``resources: {code_repo: {config: {repo_path: ..., entries: [...]}}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from cogo_pipelines.indexing import embedding
from cogo_pipelines.indexing import policy as index_policy
from cogo_pipelines.settings import get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]  # cogo_pipelines/defs/knowledge/resources.py


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

    def _flags(self, name: str | None = None) -> index_policy.Layer:
        return index_policy.Layer.of("run config", name or self.name, self.include, self.exclude, self.entries)

    def policy(self) -> index_policy.IndexPolicy:
        """The index policy in force (the same one ``cogo index`` would use on this root)."""
        return index_policy.resolve(self.root(), self._flags(), index_policy.env_layer(get_settings()))

    def prepare(self, root: Path | None = None, name: str | None = None) -> index_policy.Prepared:
        """The policy applied: files, entries (globs matched) and what was left out. ``root`` and
        ``name`` are a repo partition's (default: the configured repo): the partition's name is
        the repo's name in the store, whatever its ``cogo.toml`` or ``REPO_NAME`` says."""
        return index_policy.prepare(root or self.root(), self._flags(name), index_policy.env_layer(get_settings()))

    def repo(self) -> str:
        return self.policy().name

    def entry_paths(self, root: Path | None = None, name: str | None = None) -> list[str]:
        """The indexed files the entries name (globs matched), then the entries that name none."""
        prepared = self.prepare(root, name)
        return prepared.entries + prepared.unmatched_entries

    def traces(self) -> Path:
        return Path(self.trace_dir) if self.trace_dir else get_settings().traces_dir


class EmbeddingModelResource(dg.ConfigurableResource):
    """The sentence-transformers model; unset = ``EMBEDDING_MODEL`` or the bundled MiniLM.

    The resource owns its model: the name is fixed when a step starts and every vector of the
    step comes from it, without touching the process environment or the settings (another step
    of the same process may use another model). The weights load on the first text that needs
    them (a cache-only run never loads torch), once per process and model.
    """

    model: str | None = None
    _name: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._name = self.model or embedding.model_name()

    def model_name(self) -> str:
        return self._name or self.model or embedding.model_name()

    def key(self) -> str:
        """The cache key of the vectors this model makes."""
        return embedding.model_key(self.model_name())

    def encode(self, texts: list[str]):
        return embedding.encode(texts, model=self.model_name())


class Neo4jResource(dg.ConfigurableResource):
    """The optional mirror's driver; no URI = mirror skipped.

    The password is deliberately not a config field (run config is shown in the UI): it comes
    only from ``NEO4J_PASSWORD``. The driver is made when a step starts (it connects on first
    use) and closed when it ends.
    """

    uri: str | None = None
    user: str | None = None
    database: str | None = None
    _driver: Any = PrivateAttr(default=None)

    def connection(self) -> dict:
        s = get_settings()
        password = s.neo4j_password.get_secret_value() if s.neo4j_password else None
        return {
            "uri": self.uri or s.neo4j_uri,
            "user": self.user or s.neo4j_user,
            "password": password,
            "database": self.database or s.neo4j_database,
        }

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = self.connection()
        if settings["uri"]:
            from neo4j import GraphDatabase

            auth = (settings["user"], settings["password"]) if settings["password"] else None
            self._driver = GraphDatabase.driver(settings["uri"], auth=auth)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    @property
    def driver(self):
        """The ``neo4j.Driver``, or None when no URI is configured."""
        return self._driver


defs = dg.Definitions(
    resources={
        "code_repo": CodeRepoResource(),
        "embedding_model": EmbeddingModelResource(),
        "neo4j": Neo4jResource(),
    }
)
