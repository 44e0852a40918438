"""A re-index after each kind of edit writes exactly the rows of a cold index of the same tree
(real embedded PostgreSQL, real tree-sitter): the edits that keep every file's interface are
patched (``graph_patch``: only the edited file's rows made again), those that change what a file
declares patched with the files importing it, the others rebuilt; a patch that missed a
dependent file shows as a row that differs from the cold index."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from cogo_pipelines.pipeline import graph_index, graph_patch
from cogo_pipelines.store.graph_writer import EDGE_COLUMNS, NODE_COLUMNS

ENTRIES = ["src/index.ts"]
# lib.ts and the files that import it, directly or through index.ts's re-export
IMPORTERS_OF_LIB = ["src/a.ts", "src/b.ts", "src/index.ts", "src/lib.ts"]
FILES = {
    "src/index.ts": 'export * from "./lib"\nimport { runA } from "./a"\nimport { runB } from "./b"\n'
                    "export function main(): void {\n  runA()\n  runB()\n}\n",
    "src/lib.ts": "export function helper(): number {\n  return 1\n}\n"
                  "export class Base {\n  method(): number {\n    return helper()\n  }\n}\n",
    "src/a.ts": 'import { helper, Base, extra } from "./lib"\nimport * as lib from "./lib"\n'
                "export class A extends Base {\n  run(): number {\n    return this.method()\n  }\n}\n"
                "export function runA(): void {\n  helper()\n  lib.helper()\n  extra()\n  new A().run()\n}\n",
    "src/b.ts": 'import { helper } from "./index"\n'
                "export function runB(): number {\n  return helper()\n}\n",
    "src/c.ts": "export function lonely(): number {\n  return 3\n}\n",
}


def _rows(conn: psycopg.Connection, repo: str) -> tuple[list[tuple], list[tuple]]:
    nodes = conn.execute(f"SELECT {', '.join(NODE_COLUMNS)} FROM ast_nodes WHERE repo = %s ORDER BY id",
                         (repo,)).fetchall()
    edges = conn.execute(f"SELECT {', '.join(EDGE_COLUMNS)} FROM code_relationships WHERE repo = %s ORDER BY id",
                         (repo,)).fetchall()
    return [tuple(r.values()) for r in nodes], [tuple(r.values()) for r in edges]


def _cold_rows(conn: psycopg.Connection, root: Path, repo: str) -> tuple[list[tuple], list[tuple]]:
    """The rows a cold index of ``root`` writes: made in a savepoint that is rolled back, with
    nothing stored before it (no rows, no graph state, no cached extraction)."""
    cold = None
    with conn.transaction():
        for table in ("graph_state", "ast_nodes", "code_relationships", "files"):
            conn.execute(f"DELETE FROM {table} WHERE repo = %s", (repo,))
        conn.execute("DELETE FROM graph_extractions")
        result = graph_index.index_static_graph(conn, root, repo=repo, entries=ENTRIES)
        assert result.parsed == len(list((root / "src").glob("*.ts"))) and not result.patched
        cold = _rows(conn, repo)
        raise psycopg.Rollback()
    return cold


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / "patch" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "patch" / rel).write_text(text)
    return tmp_path / "patch"


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_each_edit_writes_the_rows_of_a_cold_index(conn: psycopg.Connection, root: Path):
    first = graph_index.index_static_graph(conn, root, repo="patch", entries=ENTRIES)
    assert first.edges > 20 and not first.patched
    # a runtime count on a node and on an edge that every edit keeps
    conn.execute("UPDATE ast_nodes SET runtime_count = 7 WHERE repo = 'patch' AND qualified_name = 'Base.method'")
    conn.execute("UPDATE code_relationships SET runtime_count = 5 WHERE repo = 'patch' AND kind = 'calls' "
                 "AND src_path = 'src/b.ts'")

    steps = [  # (what, the edit, the files patched: [] where the edit must rebuild)
        ("body change", lambda: _edit(root, "src/lib.ts", "return 1\n", "const two = 2\n  return two - 1\n"),
         ["src/lib.ts"]),
        ("a new call in a body", lambda: _edit(root, "src/b.ts", "return helper()", "helper()\n  return helper()"),
         ["src/b.ts"]),
        ("body change through a re-export", lambda: _edit(root, "src/b.ts", "helper()\n  return", "return"),
         ["src/b.ts"]),
        # a.ts has called extra() all along: only re-linking a.ts resolves it
        ("added export", lambda: _edit(root, "src/lib.ts", "export class", "export function extra(): void {}\n"
                                       "export class"), IMPORTERS_OF_LIB),
        ("removed export", lambda: _edit(root, "src/lib.ts", "export function extra(): void {}\n", ""),
         IMPORTERS_OF_LIB),
        ("added import", lambda: _edit(root, "src/c.ts", "export function lonely(): number {\n  return 3",
                                       'import { helper } from "./lib"\nexport function lonely(): number {\n'
                                       "  return helper()"), []),
        ("renamed function", lambda: _edit(root, "src/lib.ts", "function helper()", "function helper2()"),
         sorted(["src/c.ts", *IMPORTERS_OF_LIB])),
        ("file added", lambda: (root / "src" / "d.ts").write_text(
            'import { helper2 } from "./lib"\nexport const d = (): number => helper2()\n'), []),
        ("file removed", lambda: (root / "src" / "c.ts").unlink(), []),
        ("tsconfig added", lambda: (root / "tsconfig.json").write_text(
            '{"compilerOptions": {"baseUrl": ".", "paths": {"@lib": ["src/lib.ts"]}}}'), []),
        ("comment appended", lambda: _edit(root, "src/a.ts", "new A().run()\n}\n", "new A().run()\n}\n// done\n"),
         ["src/a.ts"]),
    ]
    for what, edit, patched in steps:
        edit()
        result = graph_index.index_static_graph(conn, root, repo="patch", entries=ENTRIES)
        assert result.patched == patched, what
        stored = _rows(conn, "patch")
        assert stored == _cold_rows(conn, root, "patch"), what
        assert (result.symbols, result.edges) == (sum(r[3] != "file" for r in stored[0]), len(stored[1])), what
        kept = conn.execute("SELECT runtime_count FROM ast_nodes WHERE repo = 'patch' AND qualified_name = "
                            "'Base.method'").fetchone()
        assert kept["runtime_count"] == 7, what
        warm = graph_index.index_static_graph(conn, root, repo="patch", entries=ENTRIES)
        assert warm.skipped and (warm.symbols, warm.edges) == (result.symbols, result.edges), what


@pytest.mark.parametrize("sabotage", ["interface", "dependents"])
def test_a_patch_that_skipped_a_dependent_file_differs_from_the_cold_index(
        conn: psycopg.Connection, root: Path, monkeypatch: pytest.MonkeyPatch, sabotage: str):
    """The comparison above catches a patch that leaves a dependent file's rows stale: with the
    interface check defeated, or the importers of the changed file left out, the export added to
    lib.ts leaves a.ts's call of extra() unresolved, unlike the cold index."""
    graph_index.index_static_graph(conn, root, repo="patch", entries=ENTRIES)
    monkeypatch.setattr(graph_patch, sabotage, lambda *args: () if sabotage == "interface" else set())
    _edit(root, "src/lib.ts", "export class", "export function extra(): void {}\nexport class")
    result = graph_index.index_static_graph(conn, root, repo="patch", entries=ENTRIES)
    assert result.patched == ["src/lib.ts"]
    assert _rows(conn, "patch") != _cold_rows(conn, root, "patch")
