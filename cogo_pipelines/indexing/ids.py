"""Stable ids of graph rows, derived from what they name (repo, path, declaration, edge key),
so a re-run keeps them and rows of one file sit together in the store's b-tree indexes."""

from __future__ import annotations

import functools
import hashlib

FILE_PREFIX = 12  # hex digits of a node id shared by every node of one file


@functools.lru_cache(maxsize=8192)
def file_prefix(repo: str, path: str) -> str:
    return hashlib.sha256(f"{repo}\0{path}".encode()).hexdigest()[:FILE_PREFIX]


def node_id(repo: str, path: str, qualified_name: str, kind: str) -> str:
    """Stable across runs: the same declaration keeps its id while it keeps its name.

    32 hex digits, the first ``FILE_PREFIX`` naming the file: a file's nodes, and the edges out
    of them (``store.graph_store``), sit together in the b-tree indexes, which makes writing a
    graph about a quarter cheaper for the server than fully random ids."""
    digest = hashlib.sha256(f"{repo}\0{path}\0{qualified_name}\0{kind}".encode()).hexdigest()
    return file_prefix(repo, path) + digest[: 32 - FILE_PREFIX]


@functools.lru_cache(maxsize=65536)
def file_id(repo: str, path: str) -> str:
    return node_id(repo, path, path, "file")


def edge_id(repo: str, src: str, dst: str, key: tuple[str, str]) -> str:
    """Led by the source node's file, like the node ids: one file's edges are written together."""
    digest = hashlib.sha256(f"{repo}\0{src}\0{dst}\0{key[0]}\0{key[1]}".encode()).hexdigest()
    return src[:FILE_PREFIX] + digest[: 32 - FILE_PREFIX]
