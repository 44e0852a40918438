"""Which files of a repo the graph reads, in one place for every face (``cogo graph`` and the
benchmarks): the index policy of ``indexing/policy.py`` (flags > ``cogo.toml`` > env > defaults)
reduced to its file patterns."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.indexing import policy as index_policy
from cogo_pipelines.indexing import sources

ANYWHERE = index_policy.ANYWHERE_TS


def policy_for(repo: Path, include: list[str] | None) -> sources.Policy:
    """The index policy's file patterns for ``repo``, ``include`` as if given as ``--include``
    (no environment layer: benches and tests get the same answer everywhere)."""
    return index_policy.resolve(repo, index_policy.Layer.of("flags", include=include)).sources_policy()
