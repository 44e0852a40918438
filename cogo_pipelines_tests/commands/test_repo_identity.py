"""Repo identity in the store (issue 19): two folders both called ``package`` (as ``npm pack``
unpacks rxjs, tRPC and effect) no longer overwrite each other; the second is refused until it
gets a name of its own, and search says which repo each hit is from. Also: a ``.ts`` symlink
loop does not stop ``cogo index`` (issue 18 item 8). Real CLI processes, real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cogo_pipelines.store import repo_roots

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]


def cogo(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COGO, *args], check=False, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env})


def package(root: Path, word: str) -> Path:
    src = root / "package" / "src"
    src.mkdir(parents=True)
    (src / "index.ts").write_text(f"export {{ {word}Helper }} from './{word}';\n")
    (src / f"{word}.ts").write_text(f"/** The {word} helper. */\nexport function {word}Helper(): string {{\n"
                                    f"  return '{word}';\n}}\n")
    return root / "package"


def test_second_root_under_a_held_name_is_refused(database_url, tmp_path: Path, conn):
    first, second = package(tmp_path / "rxjs", "observable"), package(tmp_path / "trpc", "router")

    done = cogo("index", str(first), "--no-embed", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["repo"] == "package"

    refused = cogo("index", str(second), "--no-embed", "--json")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "'package' is already taken by" in refused.stderr and "--name" in refused.stderr
    graph = cogo("graph", str(second), "--modules")
    assert graph.returncode == 2 and "already taken" in graph.stderr

    named = cogo("index", str(second), "--no-embed", "--json", "--name", "trpc")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["repo"] == "trpc"
    via_env = cogo("graph", str(second), "--modules", REPO_NAME="trpc")
    assert via_env.returncode == 0 and "src/index.ts\tsrc/router.ts\treexport" in via_env.stdout

    assert repo_roots.roots(conn) == {"package": str(first.resolve()), "trpc": str(second.resolve())}

    # both are searchable, and each hit says where it is from
    hits = json.loads(cogo("search", "helper", "--json", "--k", "10").stdout)
    assert {(h["repo"], h["path"]) for h in hits} >= {("package", "src/observable.ts"), ("trpc", "src/router.ts")}
    text = cogo("search", "routerHelper", "--k", "1")
    assert "trpc:src/router.ts" in text.stdout
    only = json.loads(cogo("search", "helper", "--json", "--repo", "trpc").stdout)
    assert only and {h["repo"] for h in only} == {"trpc"}


def test_a_moved_checkout_keeps_its_name(database_url, tmp_path: Path, conn):
    old = package(tmp_path / "old", "lease")
    assert cogo("index", str(old), "--no-embed", "--name", "app").returncode == 0
    new = old.rename(tmp_path / "moved")
    done = cogo("index", str(new), "--no-embed", "--name", "app", "--json")
    assert done.returncode == 0, done.stderr
    assert repo_roots.roots(conn) == {"app": str(new.resolve())}


def test_index_goes_on_past_a_symlink_loop(database_url, tmp_path: Path):
    root = package(tmp_path / "x", "queue")
    os.symlink("loop.ts", root / "src" / "loop.ts")
    os.symlink("nowhere.ts", root / "src" / "dangling.ts")
    done = cogo("index", str(root), "--no-embed", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["files"] == 2 and summary["chunks"] > 0
    assert sorted(e["path"] for e in summary["errors"]) == ["src/dangling.ts", "src/loop.ts"]


def test_entries_and_policy_from_cogo_toml(database_url, tmp_path: Path):
    root = package(tmp_path / "y", "route")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# Guide\n\n## Routing\n\nHow routes are matched.\n")
    (root / "cogo.toml").write_text('[index]\nname = "routes"\ninclude = ["src/**/*.ts", "docs/**/*.md"]\n'
                                    'entries = ["src/index.ts", "src/nope/*.ts"]\n')
    done = cogo("index", str(root), "--no-embed", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["repo"] == "routes" and summary["files"] == 3
    assert summary["entries"] == ["src/index.ts"] and summary["missing_entries"] == ["src/nope/*.ts"]
    assert "entry 'src/nope/*.ts' (from cogo.toml) matches no indexed file" in done.stderr
