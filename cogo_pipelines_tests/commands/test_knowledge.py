"""`cogo index` / `cogo search` as a user runs them (subprocess, real store, no embeddings)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]
PROFILE = Path(__file__).parents[1] / "indexing" / "fixtures" / "cogo-sample-smoke.cpuprofile"


def cogo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COGO, *args], check=False, capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )


def test_search_before_index_then_index_and_search_json(database_url, sample_repo_path: Path, tmp_path: Path):
    before = cogo("search", "lease")
    assert before.returncode == 1 and "cogo index" in before.stderr and "Traceback" not in before.stderr
    for bad, why in (("  ", "query is empty"), ("a\x01b", "control characters"), ("x" * 600, "at most 500")):
        refused = cogo("search", bad)  # the MCP tool's and the REST API's checks, before the store is asked
        assert refused.returncode == 2 and why in refused.stderr and len(refused.stderr.splitlines()) == 1

    indexed = cogo("index", str(sample_repo_path), "--no-embed", "--json")
    assert indexed.returncode == 0, indexed.stderr
    summary = json.loads(indexed.stdout)
    assert (
        summary["files"] == 35 and summary["chunks"] > 100 and summary["symbols"] > 0 and summary["edges"] > 0
    )
    assert (
        summary["embedded"] == 0
        and summary["errors"] == []
        and set(summary["seconds"]) == {"graph", "runtime", "chunk", "embed", "summary", "upsert"}
    )
    # no trace folder under COGO_HOME: no runtime data, and nothing to warn about
    assert (summary["trace_files"], summary["runtime_edges"], summary["trace_warnings"]) == (0, 0, [])

    again = json.loads(cogo("index", str(sample_repo_path), "--no-embed", "--json").stdout)
    assert again["rechunked_files"] == 0 and again["skipped_unchanged"] == 35

    found = cogo("search", "computeLeaseExpiry", "--k", "3", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert len(hits) == 3 and hits[0]["path"] == "src/core/lease.ts"
    assert all(set(h) == {"path", "symbol", "chunk_type", "start_line", "end_line", "score", "repo"} for h in hits)

    traces = tmp_path / "traces"
    traces.mkdir()
    shutil.copy(PROFILE, traces)
    table = cogo("index", str(sample_repo_path), "--no-embed", "--traces", str(traces))
    assert table.returncode == 0 and "skipped unchanged" in table.stderr
    assert re.search(r"runtime edges\s*│\s*[1-9]", table.stderr), table.stderr


def test_search_loads_only_its_own_command_area_and_help_lists_every_command():
    """`cogo search` must stay cheap: it imports neither the other command areas nor the index
    pipeline, torch or model2vec (checked after the command has run, in the same process)."""
    code = (
        "import sys; sys.argv = ['cogo', 'search', '--help']\n"
        "from cogo_pipelines import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy = ['cogo_pipelines.commands.graph', 'cogo_pipelines.commands.queue', 'cogo_pipelines.commands.server',"
        " 'cogo_pipelines.commands.quality', 'cogo_pipelines.commands.mcp', 'cogo_pipelines.pipeline.index_run', 'networkx', 'torch', 'model2vec']\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "Usage:" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
    listed = cogo("--help").stdout
    for command in ("index", "search", "graph", "jobs", "runner", "gate", "snapshot", "notify", "serve", "vault", "mcp"):
        assert re.search(rf"│ {command}\b", listed), command
    assert cogo("no-such-command").returncode == 2


@pytest.mark.parametrize("command", [("search", "sessions"), ("mcp",)])
def test_reading_where_no_store_was_made_says_where_it_looked_and_makes_none(tmp_path: Path, command):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "COGO_HOME")}
    elsewhere = tmp_path / "my-app"  # an agent starts `cogo mcp` in the project it works on
    elsewhere.mkdir()
    done = subprocess.run([*COGO, *command], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    assert f"no store in {elsewhere / '.cogo'}" in message and "COGO_HOME" in message
    assert not (elsewhere / ".cogo").exists()  # no embedded PostgreSQL started in the user's repo


@pytest.mark.parametrize("setting", ["home is a file", "home cannot be made", "url libpq cannot read"])
@pytest.mark.parametrize("command", [["index", "--no-embed"], ["gate", "q1"], ["graph"]])
def test_a_store_setting_that_cannot_work_is_one_line(tmp_path: Path, sample_repo_path: Path, setting, command):
    """A COGO_HOME that is a file or cannot be made, and a DATABASE_URL libpq cannot parse, ended
    in FileExistsError / FileNotFoundError / ProgrammingError tracebacks (the last quoting the
    URL, password included)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "COGO_HOME")}
    if setting == "home is a file":
        (tmp_path / "home").write_text("not a folder")
        env["COGO_HOME"] = str(tmp_path / "home")
    elif setting == "home cannot be made":
        env["COGO_HOME"] = "/proc/no-such-folder"
    else:
        env["DATABASE_URL"] = "postgress://cogo:S3cret-pw-777@127.0.0.1:5432/cogo"
    args = [*command[:1], *([str(sample_repo_path)] if command[0] in ("index", "graph") else []), *command[1:]]
    done = subprocess.run([*COGO, *args], check=False, capture_output=True, text=True, timeout=120, env=env)
    if command[0] == "graph":  # the graph needs no store: it says so and computes it in memory
        assert done.returncode == 0 and "store unavailable, computing in memory" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and "S3cret" not in done.stderr
        return
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("cogo: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr and "S3cret" not in done.stderr
    assert ("COGO_HOME" in errors[0]) if setting != "url libpq cannot read" else ("DATABASE_URL" in errors[0])


def test_binary_files_named_like_sources_are_skipped_with_one_line_each(database_url, tmp_path: Path):
    """Random bytes in a ``.ts`` file (with NULs, or without and not UTF-8), a ``.md`` in UTF-16:
    the walk leaves each out with its reason (``sources.binary_reason``, the file's head only)
    and counts them in the skipped summary; the rest is indexed. They were parsed into a line of
    problems and chunked, their bytes replaced, into noise for the search."""
    import random

    noise = random.Random(0).randbytes(2_000_000)
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "docs" / "specs").mkdir(parents=True)
    (root / "src" / "random.ts").write_bytes(noise)
    (root / "src" / "random-no-nul.ts").write_bytes(noise.replace(b"\x00", b"a"))
    (root / "src" / "random-high.ts").write_bytes(noise.translate(bytes(c if c >= 32 else 97 for c in range(256))))
    (root / "docs" / "specs" / "notes.md").write_bytes("## Leases\nA lease expires.\n".encode("utf-16"))
    (root / "src" / "nul-in-string.ts").write_bytes(b'export const key = (a: string) => `${a}\x00`;\n')
    (root / "src" / "index.ts").write_text('import { key } from "./nul-in-string";\nexport const k = key("x");\n')
    done = cogo("index", str(root), "--no-embed", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    summary = json.loads(done.stdout)
    assert summary["files"] == 2 and summary["skipped"] == {"binary": 4}
    reasons = {
        "docs/specs/notes.md": "UTF-16 text (a byte-order mark); not indexed",
        "src/random-high.ts": "binary file (not UTF-8 text); not indexed",
        "src/random-no-nul.ts": "binary file (control bytes); not indexed",
        "src/random.ts": "binary file (NUL and control bytes); not indexed",
    }
    assert {e["path"]: e["error"] for e in summary["errors"]} == reasons
    said = [line for line in done.stderr.splitlines() if "random" in line or "notes.md" in line or "skipped" in line]
    assert sorted(said) == sorted(["cogo index: skipped: 4 binary", *(f"cogo index: {p}: {r}" for p, r in reasons.items())])
