"""index_static_graph against the real embedded PostgreSQL: idempotent writes, vanished
files, the content-hash cache (warm runs parse nothing), error rows, and the CLI contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cogo_pipelines.indexing import static_graph
from cogo_pipelines.pipeline import graph_index
from cogo_pipelines.store import graph_writer

FIXTURES = Path(__file__).parents[1] / "indexing" / "fixtures"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "calls"
    shutil.copytree(FIXTURES / "calls", target)
    return target


def _snapshot(conn, repo_name: str):
    nodes = conn.execute(
        "SELECT id, path, kind, qualified_name, signature, start_line, end_line, exported, entry_weight"
        " FROM ast_nodes WHERE repo = %s ORDER BY id", (repo_name,)).fetchall()
    edges = conn.execute(
        "SELECT id, src_id, dst_id, kind, confidence, detail FROM code_relationships WHERE repo = %s ORDER BY id",
        (repo_name,)).fetchall()
    return nodes, edges


def test_cold_then_warm_run_is_idempotent_and_parses_nothing(conn, repo: Path):
    first = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    assert first.repo == "calls" and not first.skipped
    assert first.parsed == 9 and first.errors == []
    assert first.symbols > 15 and first.edges > 40
    before = _snapshot(conn, "calls")
    assert len(before[0]) == first.symbols + 9
    kinds = {r["kind"] for r in before[1]}
    assert {"contains", "imports", "calls", "references", "extends", "implements"} <= kinds

    warm = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    assert warm.skipped and warm.parsed == 0
    assert (warm.symbols, warm.edges) == (first.symbols, first.edges)
    assert _snapshot(conn, "calls") == before

    # rebuilding from the extraction cache (a new fingerprint) parses nothing and writes the same rows
    conn.execute("DELETE FROM graph_state")
    rebuilt = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    assert not rebuilt.skipped and rebuilt.parsed == 0
    assert _snapshot(conn, "calls") == before


def test_changed_and_vanished_files(conn, repo: Path):
    graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    (repo / "src" / "orphan.ts").unlink()
    (repo / "src" / "util.ts").write_text("export function util(): number {\n  return 2;\n}\n")
    shutil.copy(repo / "src" / "types.ts", repo / "src" / "types-copy.ts")  # same bytes: cached
    result = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    assert result.delta.removed == ["src/orphan.ts"]
    assert result.delta.changed == ["src/util.ts"] and result.delta.added == ["src/types-copy.ts"]
    assert result.parsed == 1  # util.ts only
    paths = {r["path"] for r in conn.execute("SELECT DISTINCT path FROM ast_nodes WHERE repo = 'calls'")}
    assert "src/orphan.ts" not in paths and "src/types-copy.ts" in paths
    assert not conn.execute("SELECT 1 FROM code_relationships WHERE src_path = 'src/orphan.ts'").fetchall()
    names = {r["qualified_name"] for r in conn.execute("SELECT qualified_name FROM ast_nodes WHERE path = 'src/util.ts'")}
    assert "defUtil" not in names and "util" in names
    # the removed default export leaves main's call unresolved, kept as maybe
    maybe = conn.execute("SELECT dst_id FROM code_relationships WHERE kind = 'calls' AND confidence = 'maybe'"
                         " AND detail = 'defUtil'").fetchall()
    assert [r["dst_id"] for r in maybe] == ["unresolved:defUtil"]


def test_runtime_counts_survive_a_rewrite(conn, repo: Path):
    graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    conn.execute("UPDATE ast_nodes SET runtime_count = 7, rank = 0.9 WHERE qualified_name = 'Service.run'")
    conn.execute("DELETE FROM graph_state")
    graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    row = conn.execute("SELECT runtime_count, rank FROM ast_nodes WHERE qualified_name = 'Service.run'").fetchone()
    assert row["runtime_count"] == 7 and row["rank"] == pytest.approx(0.9)


@pytest.mark.parametrize("forked", [False, True], ids=["linked-here", "linked-in-forked-processes"])
def test_streamed_write_equals_the_write_of_the_graph_built_in_memory(conn, repo: Path, monkeypatch, forked):
    """The rows streamed while the symbol edges are linked (here, or in forked processes that
    hand over COPY text) are exactly those of the graph built in memory."""
    (repo / "src" / "tab\tname.ts").write_text('import {run} from "./index"\nexport function t() { run(); }\n')
    if forked:
        monkeypatch.setattr(static_graph, "PARALLEL_MIN_USES", 0)
        monkeypatch.setattr(static_graph, "workers", lambda: 3)  # two linking processes: MIN_LINKING_PROCESSES
        # other tests may leave an idle thread behind (tqdm's monitor): forking is safe here
        monkeypatch.setattr(static_graph, "_fork_is_safe", lambda: True)
        forks = []

        class Recorded(static_graph._Linking):
            def __init__(self, pool, futures):
                forks.append(pool)
                super().__init__(pool, futures)

        monkeypatch.setattr(static_graph, "_Linking", Recorded)
    streamed = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    if forked:
        assert len(forks) == 1  # the linking really went to the forked processes
    rows = _snapshot(conn, "calls")
    assert any(r["kind"] == "calls" and r["confidence"] == "maybe" for r in rows[1])  # placeholders travel too
    # COPY text escapes: a tab in a path reaches the row as a tab
    assert conn.execute("SELECT count(*) AS n FROM code_relationships WHERE src_path = %s AND kind = 'calls'",
                        ("src/tab\tname.ts",)).fetchone()["n"] == 1
    conn.execute("DELETE FROM ast_nodes; DELETE FROM code_relationships")
    built, _ = static_graph.analyze(repo, entries=["src/index.ts"])
    assert graph_writer.write_graph(conn, built) == (len(rows[0]), len(rows[1])) == (
        len(streamed.graph.nodes), streamed.edges)
    assert _snapshot(conn, "calls") == rows


def test_a_failed_build_or_write_leaves_the_stored_graph_as_it_was(conn, repo: Path):
    good = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    conn.commit()
    before = _snapshot(conn, "calls")
    # the build fails half-way, after the writer has started copying: nothing of it lands
    with pytest.raises(RuntimeError, match="resolver broke"), graph_writer.GraphWriter(conn, "calls") as writer:
        writer.nodes({nid: dict(d, signature="changed") for nid, d in good.graph.nodes.items()})
        writer.edges(dict(good.graph.edges))
        raise RuntimeError("resolver broke")
    conn.rollback()
    assert _snapshot(conn, "calls") == before
    # the server refuses a row (a NULL name): the writer thread's error reaches the caller
    bad = dict(good.graph.nodes)
    bad["broken"] = dict(next(iter(bad.values())), name=None)
    with pytest.raises(psycopg.errors.NotNullViolation), graph_writer.GraphWriter(conn, "calls") as writer:
        writer.nodes(bad)
    conn.rollback()
    assert _snapshot(conn, "calls") == before
    # a statement handed to the writer fails: its error reaches the caller, nothing lands
    with pytest.raises(psycopg.errors.DivisionByZero), graph_writer.GraphWriter(conn, "calls") as writer:
        writer.call(lambda c: c.execute("SELECT 1 / 0"))
        writer.nodes(good.graph.nodes)
    conn.rollback()
    assert _snapshot(conn, "calls") == before
    # the server refuses an edge mid-stream (a NULL kind): the writer thread's error reaches the
    # caller once the build is done, and the build is not left blocked on a full queue
    with pytest.raises(psycopg.errors.NotNullViolation), graph_writer.GraphWriter(conn, "calls") as writer:
        writer.nodes(good.graph.nodes)
        writer.rows((b"e1\tcalls\tsrc\tdst\t\\N\tcertain\t1\tsrc/index.ts\t\\N\n", 1))
        for _ in range(3):
            writer.edges(dict(good.graph.edges))  # the build goes on; the writer drains it
    conn.rollback()
    assert _snapshot(conn, "calls") == before


def test_bad_files_get_error_rows_and_the_run_goes_on(conn, repo: Path):
    (repo / "src" / "binary.ts").write_bytes(b"\x00\x01\x02")
    (repo / "src" / "latin1.ts").write_bytes("export const s = 'é';".encode("latin-1"))
    (repo / "src" / "broken.ts").write_text("export function ok() {}\nfunction (((( {\n")
    (repo / "tsconfig.json").write_text('{"extends": "./tsconfig.json"}')
    result = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    problems = dict(result.errors)
    assert "binary" in problems["src/binary.ts"] and "UTF-8" in problems["src/latin1.ts"]
    assert "syntax error" in problems["src/broken.ts"]
    assert "circular extends" in problems["tsconfig.json"]
    rows = {r["path"]: r["error"] for r in conn.execute("SELECT path, error FROM files WHERE error IS NOT NULL")}
    # a binary file is left out by the walk, as a file of no indexed kind is: said, never stored
    assert set(rows) == {"src/latin1.ts", "src/broken.ts"}
    assert conn.execute("SELECT 1 FROM ast_nodes WHERE qualified_name = 'Service.run'").fetchone()
    warm = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    assert warm.skipped and set(dict(warm.errors)) == set(problems)


def test_a_newer_extractor_reparsing_unchanged_files_refreshes_their_errors(conn, repo: Path, monkeypatch):
    (repo / "src" / "broken.ts").write_text("export function ok() {}\nfunction (((( {\n")
    graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    # what an older extractor left: an error on a file that parses now (a grammar gap since bridged)
    conn.execute("UPDATE files SET error = 'missing ! at line 1, column 1' WHERE path = 'src/index.ts'")
    monkeypatch.setattr(graph_index, "EXTRACTOR_VERSION", "a-newer-one")  # cached extractions are not read
    monkeypatch.setattr("cogo_pipelines.store.graph_store.EXTRACTOR_VERSION", "a-newer-one")
    conn.execute("DELETE FROM graph_state")
    result = graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    assert result.parsed == len(result.files) and not result.delta.dirty  # all unchanged, all parsed again
    rows = {r["path"]: r["error"] for r in conn.execute("SELECT path, error FROM files WHERE error IS NOT NULL")}
    assert set(rows) == {"src/broken.ts"} and "syntax error" in rows["src/broken.ts"]


def test_cogo_graph_contract(database_url: str, tmp_path: Path):
    repo = tmp_path / "forms"
    shutil.copytree(FIXTURES / "forms", repo)
    env = {**os.environ, "DATABASE_URL": database_url, "COGO_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "cogo_pipelines.cli", "graph", str(repo), "--modules", "--format", "tsv"]
    runs = [subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False) for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stderr
    assert runs[0].stdout == runs[1].stdout  # the warm run reads the stored graph
    lines = runs[0].stdout.splitlines()
    rows = [line.split("\t") for line in lines]
    assert all(len(r) == 3 for r in rows)
    assert ["src/main.ts", "src/lib/types.ts", "type"] in rows
    assert ["src/main.ts", "src/plugins/a.ts", "maybe"] in rows
    assert {r[2] for r in rows} == {"import", "type", "reexport", "dynamic", "require", "reference", "maybe"}
    assert "unresolved import './lib/does-not-exist'" in runs[0].stderr


def test_a_linking_process_that_fails_leaves_the_stored_graph_as_it_was(conn, repo: Path, monkeypatch):
    graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    conn.commit()
    before = _snapshot(conn, "calls")
    (repo / "src" / "extra.ts").write_text('import {run} from "./index"\nexport function x() { run(); }\n')
    monkeypatch.setattr(static_graph, "PARALLEL_MIN_USES", 0)
    monkeypatch.setattr(static_graph, "workers", lambda: 2)
    monkeypatch.setattr(static_graph, "_fork_is_safe", lambda: True)
    real = static_graph.Linker.file_edges

    def broken(self, path):
        if path == "src/extra.ts":
            raise RuntimeError("linker broke")
        return real(self, path)

    monkeypatch.setattr(static_graph.Linker, "file_edges", broken)  # inherited by the forked processes
    with pytest.raises(RuntimeError, match="linker broke"):
        graph_index.index_static_graph(conn, repo, entries=["src/index.ts"])
    conn.rollback()
    assert _snapshot(conn, "calls") == before
