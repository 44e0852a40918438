"""Where a failing build points in the code: stack frames and compiler positions, read through the graph.

Text search alone answers "which code looks like this error"; a frame answers "which code ran".
So locations come, in this order, from: (1) frames and compiler/lint positions inside the repo's
own indexed code, mapped to the enclosing symbol in ``ast_nodes``; (2) the code that holds the
failure's text verbatim: an error's message or a quoted string of the assertion is a literal in
the code that throws it, found by substring (knowledge search splits it into words, and a name
that holds the same words outranked the thrower); (3) the repo symbols called on the failing test
line (quoted by the runner's code frame, or read from the job's working tree); (4) the callees and
callers of those symbols in ``code_relationships``; (5) knowledge search on the assertion and the
test name. Each location says why it was chosen.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg

from cogo_pipelines.quality.build_failures import BuildLog, Failure, Frame
from cogo_pipelines.store import code_graph, knowledge
from cogo_pipelines.store.fusion import TEST_PATH

MAX_FAILURES_LOOKED_AT = 6
MAX_LITERALS = 8  # each is a scan of the repo's chunks
LITERAL_CHARS = (8, 200)
LITERAL_SCORE = 0.9  # below a frame in the repo's own code, above names on the failing test line
MAX_NEIGHBOURS = 4
TEST_FILE_BYTES = 1_000_000
SOURCE_CONTEXT_LINES = 6
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_SYMBOL_KINDS = ("function", "method", "class", "const", "variable", "arrow", "enum", "interface", "type")
# a quoted run in a message: "…", '…', `…`, “…”
_QUOTED = re.compile(r'"([^"\n]+)"|\'([^\'\n]+)\'|`([^`\n]+)`|“([^”\n]+)”')
# an error line's text: `Error: …`, `TypeError [ERR_X]: …`, `Uncaught AuthError: …`
_ERROR_TEXT = re.compile(r"^\s*(?:Uncaught\s+)?(?:[A-Za-z_$][\w$.]*)?(?:Error|Exception)(?:\s*\[[^\]]*\])?:\s+(.+?)\s*$")
# where a message built from a template breaks: quotes, `key: value`, dashes, numbers
_PIECES = re.compile(r"[\"'`“”]|:\s|\s[-–—]\s|\d[\d.,:]*")


@dataclass
class Location:
    path: str
    symbol: str | None
    kind: str | None
    start_line: int | None
    end_line: int | None
    why: str
    source: str  # frame | assertion | graph | search
    score: float
    node_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("node_id")
        return data


class GraphLocator:
    """Locations for one gate_fix: caches repo paths and searches across its failing jobs."""

    def __init__(self, conn: psycopg.Connection, *, k: int = 5):
        self.conn, self.k = conn, k
        self._repos: list[str] | None = None
        self._paths: dict[str, set[str]] = {}
        self.search_status, self.search_note = "ok", "code locations from stack frames, the graph and knowledge search"

    # --- repo and paths -----------------------------------------------------------------
    def repos(self) -> list[str]:
        if self._repos is None:
            self._repos = [r["repo"] for r in self.conn.execute("SELECT DISTINCT repo FROM ast_nodes ORDER BY repo")]
        return self._repos

    def paths(self, repo: str) -> set[str]:
        if repo not in self._paths:
            self._paths[repo] = {r["path"] for r in self.conn.execute(
                "SELECT DISTINCT path FROM ast_nodes WHERE repo = %s", (repo,))}
        return self._paths[repo]

    def pick_repo(self, hints: list[str | None], build: BuildLog) -> str | None:
        """The indexed repo a job built: named by its target/cwd, else the one its frames land in."""
        repos = self.repos()
        names = {PurePosixPath(str(h).rstrip("/")).name for h in hints if h}
        for repo in repos:
            if repo in names or any(str(h) == repo for h in hints if h):
                return repo
        best, hits = None, 0
        for repo in repos:
            count = sum(1 for f in build.failures for fr in f.frames if self.map_path(repo, fr.path))
            if count > hits:
                best, hits = repo, count
        return best or (repos[0] if len(repos) == 1 else None)

    def map_path(self, repo: str, raw: str) -> str | None:
        """A frame's path (absolute, relative, file://, Windows) -> the indexed path it ends with."""
        known = self.paths(repo)
        path = raw.replace("\\", "/")
        path = path.removeprefix("file://")
        path = path.lstrip("./") if path.startswith("./") else path
        if path in known:
            return path
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts)):
            candidate = "/".join(parts[i:])
            if candidate in known:
                return candidate
        return None

    # --- symbols --------------------------------------------------------------------------
    def enclosing(self, repo: str, path: str, line: int) -> dict | None:
        return self.conn.execute(
            "SELECT id, path, kind, name, qualified_name, start_line, end_line FROM ast_nodes"
            " WHERE repo = %s AND path = %s AND kind <> 'file' AND start_line <= %s AND end_line >= %s"
            " ORDER BY end_line - start_line, start_line DESC LIMIT 1",
            (repo, path, line, line),
        ).fetchone()

    def by_names(self, repo: str, names: list[str]) -> dict[str, list[dict]]:
        if not names:
            return {}
        rows = self.conn.execute(
            "SELECT id, path, kind, name, qualified_name, start_line, end_line, exported FROM ast_nodes"
            " WHERE repo = %s AND kind <> 'file' AND name = ANY(%s)"
            " ORDER BY exported DESC NULLS LAST, rank DESC NULLS LAST, path",
            (repo, names),
        )
        found: dict[str, list[dict]] = {}
        for row in rows:
            found.setdefault(row["name"], []).append(row)
        return found

    def neighbours(self, node_id: str) -> list[tuple[str, dict]]:
        """The symbols a located one calls (first) and those that call it, surest first: one row
        per ``calls`` edge, read as the graph tools read them (``store.code_graph``)."""
        callees = [("callee", e["dst_id"], e) for e in code_graph.edges_out_of(self.conn, node_id, ["calls"])]
        callers = [("caller", e["src_id"], e) for e in code_graph.edges_into(self.conn, [node_id], ["calls"])]
        known = code_graph.nodes(self.conn, [other for _, other, _ in callees + callers])
        rows = [(rel, {**known[other], "confidence": edge["confidence"]})
                for rel, other, edge in callees + callers if other in known]
        rows.sort(key=lambda p: (p[0] != "callee", p[1]["confidence"] != "certain", p[1]["path"],
                                 p[1]["start_line"] or 0))
        return [(rel, row) for rel, row in rows if row["kind"] != "file"][:MAX_NEIGHBOURS]

    # --- the ranking --------------------------------------------------------------------------
    def locate(self, build: BuildLog, *, hints: list[str | None], cwd: str | None,
               fallback_text: str) -> list[dict[str, Any]]:
        repo = self.pick_repo(hints, build) if self.repos() else None
        found: dict[str, Location] = {}

        def add(row: dict, why: str, source: str, score: float) -> None:
            key = row["id"]
            if key not in found:
                found[key] = Location(row["path"], row["name"], row["kind"], row["start_line"], row["end_line"],
                                      why, source, round(score, 4), key)

        failures = build.failures[:MAX_FAILURES_LOOKED_AT]
        if repo:
            for rank, failure in enumerate(failures):
                for depth, frame in enumerate(f for f in failure.frames if not f.internal):
                    path = self.map_path(repo, frame.path)
                    row = self.enclosing(repo, path, frame.line) if path else None
                    if row:
                        add(row, _frame_reason(failure, frame, path), "frame", 1.0 - 0.02 * rank - 0.05 * depth)
            self._literal_holders(repo, failures, add)
            for rank, failure in enumerate(failures):
                lines = failure.code_lines or self._test_lines(repo, failure, cwd)
                names = _called_names(lines, failure.name)
                matches = self.by_names(repo, [n for n, _ in names])
                for order, (name, origin) in enumerate(names):
                    for row in matches.get(name, [])[:2]:
                        add(row, f"{origin} of failing test “{failure.name}”", "assertion",
                            0.8 - 0.02 * rank - 0.01 * order)
            for location in list(found.values()):
                for rel, row in self.neighbours(location.node_id):
                    verb = "called by" if rel == "callee" else "calls"
                    add(row, f"{verb} {location.symbol} ({location.source}) in code_relationships", "graph",
                        location.score * 0.6)
        ranked = sorted(found.values(), key=lambda loc: -loc.score)
        # search fills a list the failures started; a log that names no failure at all (a command
        # not found, a missing npm script) has nothing to search with but its own words, which
        # matched unrelated code ("not found" → a handler's lookup) and read as the place to fix
        if len(ranked) < self.k and build.failures:
            ranked += self._search(repo, build, fallback_text, {loc.node_id for loc in ranked},
                                   {(loc.path, loc.symbol) for loc in ranked})
        return [loc.as_dict() for loc in ranked[:self.k]]

    def _literal_holders(self, repo: str, failures: list[Failure], add: Any) -> None:
        """The symbols whose code holds a failure's message verbatim (``message_literals``),
        the innermost symbol around the line that holds it; a test file's copy (an expected
        message) counts half of the code's."""
        literals: dict[str, tuple[int, Failure]] = {}
        for rank, failure in enumerate(failures):
            for literal in message_literals(failure):
                literals.setdefault(literal, (rank, failure))
        wanted = list(literals)[:MAX_LITERALS]
        for hit in knowledge.chunks_holding(self.conn, wanted, repo, limit=4 * self.k):
            rank, failure = literals[hit["literal"]]
            offset = next((i for i, line in enumerate(hit["content"].splitlines()) if hit["literal"] in line), 0)
            line = (hit["start_line"] or 1) + offset
            row = self.enclosing(repo, hit["path"], line) or {
                "id": f"chunk:{hit['id']}", "path": hit["path"], "name": hit["symbol"], "kind": hit["chunk_type"],
                "start_line": hit["start_line"], "end_line": hit["end_line"]}
            score = LITERAL_SCORE - 0.02 * rank - 0.01 * wanted.index(hit["literal"])
            add(row, f"holds the text “{hit['literal']}” of “{failure.name}” at {hit['path']}:{line}", "literal",
                score * (0.5 if TEST_PATH.search(hit["path"]) else 1.0))

    def _test_lines(self, repo: str, failure: Failure, cwd: str | None) -> list[str]:
        """The failing line of the test (and the lines above it), read from the job's working tree
        when the log did not quote it; only files inside that tree are read."""
        if not cwd:
            return []
        root = Path(cwd)
        frame = next((f for f in failure.frames if not f.internal and not self.map_path(repo, f.path)), None)
        if frame is None or not root.is_dir():
            return []
        raw = frame.path.removeprefix("file://")
        parts = [p for p in raw.replace("\\", "/").split("/") if p and p != "."]
        # the log may come from another checkout of the same tree (CI, docker): match the path's tail
        candidates = ([Path(raw)] if Path(raw).is_absolute() else []) + [
            root.joinpath(*parts[i:]) for i in range(len(parts))]
        text = None
        try:
            base = root.resolve()
            for candidate in candidates:
                resolved = candidate.resolve()
                if base in resolved.parents and resolved.is_file() and resolved.stat().st_size <= TEST_FILE_BYTES:
                    text = resolved.read_text(encoding="utf-8", errors="replace").splitlines()
                    break
        except OSError:
            return []
        if text is None:
            return []
        if not 1 <= frame.line <= len(text):
            return []
        above = text[max(0, frame.line - 1 - SOURCE_CONTEXT_LINES):frame.line - 1]
        return [text[frame.line - 1].strip(), *(line.strip() for line in reversed(above))]

    def _search(self, repo: str | None, build: BuildLog, fallback_text: str, seen_ids: set,
                seen: set) -> list[Location]:
        if self.search_status == "empty":
            return []
        parts = [f"{f.name}\n{f.message}" for f in build.failures[:3]]
        query = "\n".join([*parts, fallback_text])[:800].strip()
        if not query:
            return []
        try:
            with self.conn.transaction():
                hits = knowledge.search(self.conn, query, k=self.k, repo=repo)
        except knowledge.EmptyIndexError as exc:
            self.search_status, self.search_note = "empty", f"knowledge store is empty ({exc})"
            return []
        except Exception as exc:  # noqa: BLE001 - a broken search degrades the artifact, never the gate
            self.search_note = f"knowledge search failed: {type(exc).__name__}: {exc}"
            return []
        out = []
        for hit in hits:
            get = hit.get if isinstance(hit, dict) else lambda name, h=hit: getattr(h, name, None)
            key = (get("path"), get("symbol"))
            if key in seen:
                continue
            seen.add(key)
            out.append(Location(get("path"), get("symbol"), get("chunk_type"), get("start_line"), get("end_line"),
                                f"knowledge search on the failure text (score {float(get('score') or 0):.3f})",
                                "search", round(0.3 * float(get("score") or 0.0), 4)))
        return out


def _frame_reason(failure: Failure, frame: Frame, path: str) -> str:
    where = f"{path}:{frame.line}" + (f":{frame.column}" if frame.column else "")
    if failure.kind == "compile":
        return f"compiler error {failure.message.split(':', 1)[0]} at {where}"
    if failure.kind == "lint":
        return f"lint error at {where}"
    return f"stack frame {where} of “{failure.name}”"


def _called_names(lines: list[str], test_name: str) -> list[tuple[str, str]]:
    """Identifiers on the failing line first (called ones before the rest), then the lines above
    it, then words of the test's title; each with where it was seen."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        origin = "called on the failing line" if index == 0 else "used just above the failing line"
        called = [m.group(0) for m in _IDENTIFIER.finditer(line) if line[m.end():m.end() + 1] == "("]
        others = [m.group(0) for m in _IDENTIFIER.finditer(line)]
        for name in [*called, *others]:
            if name not in seen and len(name) > 2:
                seen.add(name)
                out.append((name, origin))
    for name in _IDENTIFIER.findall(test_name):
        if name not in seen and len(name) > 3:
            seen.add(name)
            out.append((name, "named in the title"))
    return out[:60]


def message_literals(failure: Failure) -> list[str]:
    """Runs of a failure's text that code may hold as a string literal: quoted strings, the text
    of ``…Error: text`` lines, and the pieces of those between quotes, ``: ``, dashes and numbers
    (what a template like ``invalid expiry ${exp}: ${reason}`` keeps literal). Only runs of two
    words or more and 8-200 characters: shorter ones are held by unrelated code."""
    found: list[str] = []
    for text in [*failure.message.splitlines(), failure.name]:
        candidates = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
        if match := _ERROR_TEXT.match(text):
            candidates.insert(0, match.group(1))
        for candidate in candidates:
            for piece in [candidate, *_PIECES.split(candidate)]:
                piece = piece.strip(" \t.,;:!?()[]{}")
                if (LITERAL_CHARS[0] <= len(piece) <= LITERAL_CHARS[1] and len(piece.split()) >= 2
                        and piece not in found):
                    found.append(piece)
    return found
