"""Runtime edges and ranks written to the real store (symbols seeded from real tree-sitter output)."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.indexing import ranking, runtime, typescript
from cogo_pipelines.store import runtime_store

PROFILE = Path(__file__).parents[1] / "indexing" / "fixtures" / "cogo-sample-smoke.cpuprofile"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cogo-sample"
PATHS = [
    "src/scripts/smoke.ts",
    "src/core/quality.ts",
    "src/core/router.ts",
    "src/core/lease.ts",
    "src/shared/retry.ts",
]
REPO = "cogo-sample"


def seed(conn) -> None:
    rows = []
    for path in PATHS:
        for s in typescript.extract_file(path, (SAMPLE / path).read_bytes()).symbols:
            weight = 0.5 if path != "src/scripts/smoke.ts" else 0.0
            rows.append(
                (
                    f"{path}#{s.qualified_name}",
                    REPO,
                    path,
                    s.kind,
                    s.name,
                    s.qualified_name,
                    s.start_line,
                    s.end_line,
                    weight,
                )
            )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ast_nodes (id, repo, path, kind, name, qualified_name, start_line, end_line, entry_weight)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        cur.execute(
            "INSERT INTO code_relationships (id, repo, src_id, dst_id, kind, src_path) VALUES"
            " ('static-call', %s, 'src/scripts/smoke.ts#runSmoke', 'src/core/quality.ts#computeQ1', 'calls',"
            "  'src/scripts/smoke.ts')",
            (REPO,),
        )
        cur.execute(
            "INSERT INTO code_chunks (id, repo, path, chunk_type, symbol, content, content_hash) VALUES"
            " ('ch1', %s, 'src/core/lease.ts', 'code', 'computeLeaseExpiry', 'x', 'h'),"
            " ('ch2', %s, 'src/core/lease.ts', 'code', 'renewLease', 'y', 'h2')",
            (REPO, REPO),
        )


def ranks_of(conn) -> dict[str, float]:
    return {
        r["id"]: r["rank"] for r in conn.execute("SELECT id, rank FROM ast_nodes WHERE repo = %s", (REPO,))
    }


def test_the_store_ranks_by_the_formula_of_the_ranking_module(conn):
    """The store's one-statement rank equals ``ranking.rank_all`` on the same rows (float4)."""
    seed(conn)
    counts = [0, 1, 7, 40, 2000, 0, 3]
    weights = [-0.5, 0.0, 0.2, 1 / 3, 0.5, 1.0, 1.7]
    ids = [r["id"] for r in conn.execute("SELECT id FROM ast_nodes WHERE repo = %s ORDER BY id", (REPO,))]
    for i, sid in enumerate(ids):
        conn.execute(
            "UPDATE ast_nodes SET runtime_count = %s, entry_weight = %s WHERE id = %s",
            (counts[i % len(counts)], weights[i % len(weights)], sid),
        )
    rows = conn.execute(
        "SELECT id, entry_weight, runtime_count FROM ast_nodes WHERE repo = %s", (REPO,)
    ).fetchall()
    expected = ranking.rank_all(
        {r["id"]: ranking.RankInput(float(r["entry_weight"]), int(r["runtime_count"])) for r in rows}
    )
    runtime_store.apply_ranks(conn, REPO)
    got = ranks_of(conn)
    assert len(set(expected.values())) > 5
    assert all(abs(got[sid] - expected[sid]) < 1e-6 for sid in expected), [
        (sid, got[sid], expected[sid]) for sid in expected if abs(got[sid] - expected[sid]) >= 1e-6
    ]
    with_runtime = {sid for sid, r in expected.items() if r > 0.6}
    assert with_runtime and max(got, key=got.get) in with_runtime


def test_runtime_edges_counts_and_rank_land_on_the_right_rows(conn):
    seed(conn)
    index = runtime_store.symbol_index(conn, REPO)
    trace = runtime.load_traces([PROFILE], index)
    written = runtime_store.write_runtime(conn, REPO, trace)
    assert written.edges == len(trace.edges) >= 9
    assert written.static_calls_confirmed == 1
    edge = conn.execute(
        "SELECT * FROM code_relationships WHERE kind = 'runtime' AND src_id = %s AND dst_id = %s",
        ("src/scripts/smoke.ts#runSmoke", "src/core/lease.ts#computeLeaseExpiry"),
    ).fetchone()
    assert (
        edge["confidence"] == "observed"
        and edge["runtime_count"] > 0
        and edge["src_path"] == "src/scripts/smoke.ts"
    )
    static = conn.execute("SELECT runtime_count FROM code_relationships WHERE id = 'static-call'").fetchone()
    assert (
        static["runtime_count"]
        == trace.edges[("src/scripts/smoke.ts#runSmoke", "src/core/quality.ts#computeQ1")]
    )

    assert runtime_store.apply_ranks(conn, REPO) == len(ranks_of(conn)) > 10
    ranks = ranks_of(conn)
    lease = "src/core/lease.ts#computeLeaseExpiry"
    assert ranks[lease] > ranks["src/core/lease.ts#renewLease"] == 0.3
    assert ranks["src/scripts/smoke.ts#runSmoke"] == 0.4  # hottest, unreachable from the entries
    chunks = {r["id"]: r["rank"] for r in conn.execute("SELECT id, rank FROM code_chunks")}
    assert abs(chunks["ch1"] - ranks[lease]) < 1e-6 and abs(chunks["ch2"] - 0.3) < 1e-6
    top = runtime_store.top_symbols(conn, REPO, 3)
    assert top[0]["qualified_name"] == "selectExecutor"


def test_rerun_replaces_instead_of_accumulating(conn):
    seed(conn)
    index = runtime_store.symbol_index(conn, REPO)
    trace = runtime.load_traces([PROFILE], index)
    runtime_store.write_runtime(conn, REPO, trace)
    runtime_store.write_runtime(conn, REPO, trace)
    n = conn.execute("SELECT count(*) AS n FROM code_relationships WHERE kind = 'runtime'").fetchone()["n"]
    assert n == len(trace.edges)
    runtime_store.write_runtime(conn, REPO, runtime.RuntimeTrace())  # traces removed -> counts gone
    assert (
        conn.execute("SELECT count(*) AS n FROM code_relationships WHERE kind = 'runtime'").fetchone()["n"]
        == 0
    )
    assert conn.execute("SELECT max(runtime_count) AS m FROM ast_nodes").fetchone()["m"] == 0



def _rows_read(conn) -> int:
    """Rows of ``ast_nodes`` this transaction has read so far, by scans and index fetches."""
    row = conn.execute(
        "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n FROM pg_stat_xact_user_tables"
        " WHERE relname = 'ast_nodes'"
    ).fetchone()
    return row["n"] if row else 0


def test_ranking_a_repo_new_to_a_store_reads_its_rows_a_bounded_number_of_times(conn):
    """A repo ranked in a store whose statistics predate it (a team store, a second repo): the
    planner then expects one row of the repo, and the rank statement used to re-run its
    per-repo maximum for every row of the repo (a nested loop, quadratic: formbricks' 30k
    symbols took 13 s beside eight other repos). Rows read must stay linear in the table."""
    old, new = 3000, 1500

    def symbols(repo: str, n: int) -> list[tuple]:
        return [(f"{repo}:f{i}.ts#s{i}", repo, f"f{i}.ts", "function", f"s{i}", f"s{i}", 1, 2, (i % 5) / 4, i % 7)
                for i in range(n)]

    insert = ("INSERT INTO ast_nodes (id, repo, path, kind, name, qualified_name, start_line, end_line,"
              " entry_weight, runtime_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    with conn.cursor() as cur:
        cur.executemany(insert, symbols("older", old))
        cur.execute("ANALYZE ast_nodes")  # the statistics know only the older repo
        cur.executemany(insert, symbols("newer", new))
    before = _rows_read(conn)
    assert runtime_store.apply_ranks(conn, "newer") == new
    read = _rows_read(conn) - before
    assert read < 10 * (old + new), read
    ranks = {r["id"]: r["rank"] for r in conn.execute("SELECT id, rank FROM ast_nodes WHERE repo = 'newer'")}
    expected = ranking.rank_all({sid: ranking.RankInput(w, c) for sid, _, _, _, _, _, _, _, w, c in symbols("newer", new)})
    assert all(abs(ranks[sid] - expected[sid]) < 1e-6 for sid in expected)
