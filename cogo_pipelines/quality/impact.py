"""Test impact: which build targets a change can break, read from the graph.

A change (a unified ``git diff`` or a list of files) touches symbols in ``ast_nodes``; everything
that calls, references or imports them, transitively (``code_relationships`` walked backwards),
is affected. A target is affected when one of its test files imports an affected module. Targets
whose tests cannot be read, whose repo is not indexed, or that have no tests (a type check, a
lint) always run: skipping is only ever done on evidence. Scheduled runs carry no change and run
the full set.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg

from cogo_pipelines.store import code_graph

MAX_DIFF_CHARS = 2_000_000
MAX_TEST_FILES = 500
MAX_TEST_BYTES = 1_000_000
REACH_DEPTH = 12
REACH_KINDS = ("calls", "references", "imports", "extends", "implements")
TEST_GLOBS = ("*.test.ts", "*.test.tsx", "*.spec.ts", "*.spec.tsx", "*.test.js", "*.test.mjs", "*.spec.js")
_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"\n]{1,300})['"]""")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Change:
    """Changed lines per repo-relative path; None = the whole file (a file list, a deletion)."""

    lines: dict[str, set[int] | None] = field(default_factory=dict)

    @classmethod
    def from_diff(cls, diff: str) -> Change:
        change, path, line = cls(), None, 0
        for raw in diff[:MAX_DIFF_CHARS].splitlines():
            if raw.startswith("+++ "):
                target = raw[4:].split("\t")[0].strip()
                path = None if target == "/dev/null" else target.removeprefix("b/")
                if path is not None:
                    change.lines.setdefault(path, set())
            elif raw.startswith("--- "):
                source = raw[4:].split("\t")[0].strip()
                if source != "/dev/null":
                    old = source.removeprefix("a/")
                    change.lines.setdefault(old, set())
            elif (hunk := _HUNK.match(raw)) and path is not None:
                line = int(hunk.group(1))
                if hunk.group(2) == "0":  # a pure deletion: the lines around it
                    change.lines[path].update({max(1, line), line + 1})
            elif path is not None and raw[:1] in "+-" and not raw.startswith(("+++", "---")):
                lines = change.lines[path]
                if lines is not None:
                    lines.add(max(1, line))
                if raw[:1] == "+":
                    line += 1
            elif path is not None and raw[:1] == " ":
                line += 1
        return change

    @classmethod
    def from_files(cls, files: list[str]) -> Change:
        return cls({str(PurePosixPath(f.replace("\\", "/"))).lstrip("/"): None for f in files if f and f.strip()})


def changed_symbols(conn: psycopg.Connection, repo: str, change: Change) -> list[dict[str, Any]]:
    """Symbols whose lines a change touches (every symbol of a wholly changed file, its file node too)."""
    found: dict[str, dict] = {}
    for path, lines in change.lines.items():
        rows = conn.execute(
            "SELECT id, path, kind, name, start_line, end_line FROM ast_nodes WHERE repo = %s AND path = %s",
            (repo, path)).fetchall()
        for row in rows:
            whole = lines is None or not lines
            inside = row["kind"] != "file" and row["start_line"] is not None and row["end_line"] is not None and any(
                row["start_line"] <= n <= row["end_line"] for n in (lines or ()))
            if whole or inside:
                found[row["id"]] = dict(row)
    return list(found.values())


def affected_files(conn: psycopg.Connection, repo: str, symbol_ids: list[str]) -> set[str]:
    """Paths of everything that reaches the changed symbols (callers, referrers, importers), transitively.

    The whole reach, uncapped (``code_graph.reaching``): a target is skipped only on its evidence.
    Node ids carry their repo (``indexing.ids``), so the walk never leaves ``repo``."""
    if not symbol_ids:
        return set()
    reach = code_graph.reaching(conn, symbol_ids, REACH_KINDS, max_depth=REACH_DEPTH)
    return {node["path"] for node in code_graph.nodes(conn, reach).values() if node["repo"] == repo}


def test_files(root: Path, patterns: list[str] | None) -> list[Path]:
    """The target's test files: its ``tests`` globs, else the usual test-file names."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if "node_modules" in path.parts or not path.is_file():
            continue
        if patterns:
            hit = any(fnmatch.fnmatch(rel, p) for p in patterns)
        else:
            hit = any(fnmatch.fnmatch(path.name, g) for g in TEST_GLOBS)
        if hit:
            out.append(path)
            if len(out) >= MAX_TEST_FILES:
                break
    return out


def imported_paths(test: Path, root: Path, known: set[str]) -> set[str]:
    """Repo paths a test file imports by relative specifier (``.js`` → ``.ts``, folder → index)."""
    try:
        if test.stat().st_size > MAX_TEST_BYTES:
            return set()
        text = test.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    out = set()
    for spec in _IMPORT.findall(text):
        if not spec.startswith("."):
            continue
        base = (test.parent / spec).resolve()
        try:
            rel = base.relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
        stem = re.sub(r"\.(m|c)?jsx?$", "", rel)
        for candidate in (rel, f"{stem}.ts", f"{stem}.tsx", f"{stem}/index.ts", f"{rel}.ts"):
            if candidate in known:
                out.add(candidate)
                break
    return out


def select_targets(conn: psycopg.Connection, targets: list[dict], change: Change,
                   repo_of: Any) -> tuple[list[dict], list[dict], dict[str, Any]]:
    """(targets to run, targets skipped with the reason, a report). ``repo_of(target)`` names its repo."""
    run, skipped = [], []
    report: dict[str, Any] = {"changed_files": sorted(change.lines), "targets": []}
    cache: dict[str, tuple[list[dict], set[str], set[str]]] = {}
    for target in targets:
        root = Path(target["cwd"])
        repo = repo_of(target)
        if repo is None or not root.is_dir():
            run.append(target)
            report["targets"].append({"cwd": target["cwd"], "run": True, "why": "repo not indexed or tree not here"})
            continue
        if repo not in cache:
            symbols = changed_symbols(conn, repo, change)
            known = {r["path"] for r in conn.execute("SELECT DISTINCT path FROM ast_nodes WHERE repo = %s", (repo,))}
            cache[repo] = (symbols, affected_files(conn, repo, [s["id"] for s in symbols]) | {
                p for p in change.lines if p in known}, known)
        symbols, affected, known = cache[repo]
        tests = test_files(root, target.get("tests"))
        if not tests:
            run.append(target)
            report["targets"].append({"cwd": target["cwd"], "run": True, "why": "no test files: always runs"})
            continue
        reached = sorted({p for t in tests for p in imported_paths(t, root, known)} & affected)
        entry = {"cwd": target["cwd"], "tests": len(tests), "reached": reached[:20], "run": bool(reached)}
        if reached:
            entry["why"] = f"its tests import {', '.join(reached[:3])}, which reach the change"
            run.append(target)
        else:
            entry["why"] = "none of its tests import code that reaches the changed symbols"
            skipped.append({**target, "why": entry["why"]})
        report["targets"].append(entry)
        report["changed_symbols"] = [f"{s['path']}::{s['name']}" for s in symbols if s["kind"] != "file"][:50]
    report["skipped"] = len(skipped)
    return run, skipped, report
