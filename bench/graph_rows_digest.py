"""A hash of every row a cold ``cogo graph REPO`` stores, per checkout: the check that a speed
change left the graph's output as it was.

    .venv/bin/python bench/graph_rows_digest.py REPO CHECKOUT [CHECKOUT ...]

For each checkout (its root goes first on ``PYTHONPATH``, as ``graph_speed.py --baseline``
does) the repo's rows, graph state and cached extractions are deleted, the ``cogo graph``
command runs cold, and one line gives the node and edge counts, a hash of every ``ast_nodes``
and ``code_relationships`` row of the repo (all columns the graph writes, in id order) and a
hash of the command's TSV output. Equal hashes: equal stored output.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_speed import cogo_command, forget

from cogo_pipelines.store import db
from cogo_pipelines.store.graph_writer import EDGE_COLUMNS, NODE_COLUMNS


def digest(conn, repo: str) -> tuple[int, int, str]:
    h = hashlib.sha256()
    counts = []
    for table, columns in (("ast_nodes", NODE_COLUMNS), ("code_relationships", EDGE_COLUMNS)):
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE repo = %s ORDER BY id", (repo,)).fetchall()
        for row in rows:
            h.update(repr(tuple(row.values())).encode() + b"\n")
        counts.append(len(rows))
    return counts[0], counts[1], h.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("checkouts", type=Path, nargs="+")
    args = parser.parse_args()
    root = args.repo.resolve()
    # npm packages all unpack as `package/`: the path hash keeps two of them apart in one store
    repo = f"digest-{root.name}-{hashlib.sha256(str(root).encode()).hexdigest()[:6]}"
    for checkout in args.checkouts:
        cmd, env = cogo_command(checkout.resolve())
        with db.connect() as conn:
            forget(conn, repo, root)
        done = subprocess.run([*cmd, "graph", str(root), "--name", repo], env=env, capture_output=True, check=False)
        if done.returncode != 0:
            sys.exit(f"{checkout}: cogo graph failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
        with db.connect() as conn:
            nodes, edges, rows = digest(conn, repo)
            forget(conn, repo, root)
        print(f"{checkout}: {nodes} nodes, {edges} edges, rows {rows}, tsv {hashlib.sha256(done.stdout).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
