"""Which files of a repo the graph reads, in one place for every face (``cogo graph`` and the
benchmarks today; the repo policy of ``cogo.toml`` / env joins it here)."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.indexing import sources

ANYWHERE = ("**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts")


def policy_for(repo: Path, include: list[str] | None) -> sources.Policy:
    """DESIGN's policy; ``--include`` replaces its includes, and a repo without ``src/``
    (a library laid out differently) has its TypeScript taken from anywhere."""
    if include:
        return sources.Policy.from_patterns(include=include)
    if not (repo / "src").is_dir():
        return sources.Policy.from_patterns(include=ANYWHERE)
    return sources.Policy()
