"""What agents and people ask of the knowledge: search, a symbol, the gate, the repos.

One function per question, shared by every face: the MCP tools (``cogo mcp``, ``/mcp``), the
CLI's ``cogo search`` text and the dashboard's search page, so they answer alike. Answers are
small JSON-able dicts written for a reader with a token budget: a path with its line span, the
symbol, and a snippet trimmed to the lines that match, never a whole file. Bad input (an empty
query, a ``k`` out of range, an unknown repo or symbol) raises ``ToolInputError`` with one line
that says what to send instead; the graph questions are in ``graph_tools``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from cogo_pipelines.store import code_graph, knowledge
from cogo_pipelines.store.fusion import query_words

DEFAULT_K = 8
MAX_K = 50
MAX_QUERY_CHARS = 500
MAX_NAME_CHARS = 300
SNIPPET_LINES = 6
SOURCE_LINES = 80
LINE_CHARS = 160
CHUNK_TYPES = ("code", "markdown", "sql")
SYMBOL_KINDS = ("function", "method", "class", "interface", "type", "enum", "const", "module")
_NODE_ID = re.compile(r"[0-9a-f]{32}")
_STOP = frozenset({"the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "is", "are", "be", "how",
                   "what", "when", "where", "why", "which", "does", "do", "with", "by", "it", "that", "this",
                   "from", "as", "at", "not", "no"})


class ToolInputError(ValueError):
    """The question cannot be answered as asked; the message says what to send instead."""


@dataclass
class Resolved:
    node: dict[str, Any]
    others: list[dict[str, Any]]


# ---- input checks ----------------------------------------------------------------------


def check_text(value: Any, what: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolInputError(f"{what} is empty: give some words, an identifier or a path")
    value = value.strip()
    if len(value) > max_chars:
        raise ToolInputError(f"{what} is {len(value)} characters long; at most {max_chars}")
    if any(ord(c) < 0x20 and c not in "\t\n" for c in value):
        raise ToolInputError(f"{what} contains control characters")
    return value


def check_k(k: Any, *, maximum: int = MAX_K, what: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise ToolInputError(f"{what} must be a whole number from 1 to {maximum}")
    if not 1 <= k <= maximum:
        raise ToolInputError(f"{what} must be from 1 to {maximum} (got {k})")
    return k


def check_repo(conn: psycopg.Connection, repo: str | None) -> str | None:
    """``repo`` when it is indexed (None: every repo); else an error naming the indexed ones."""
    if repo is None or (isinstance(repo, str) and not repo.strip()):
        return None
    repo = check_text(repo, "repo", MAX_NAME_CHARS)
    known = code_graph.repo_names(conn)
    if repo in known:
        return repo
    if not known:
        raise ToolInputError("nothing is indexed yet; run `cogo index REPO` first")
    raise ToolInputError(f"unknown repo {repo!r}; indexed: {', '.join(known)}")


def several_repos(conn: psycopg.Connection) -> bool:
    return len(code_graph.repo_names(conn)) > 1


# ---- text trimming ---------------------------------------------------------------------


def _clip(line: str) -> str:
    line = line.rstrip()
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


def split_doc(content: str) -> tuple[str, list[str]]:
    """(the leading ``/** … */`` or ``//`` comment as one line, the lines after it)."""
    lines = content.splitlines()
    i, doc = 0, []
    if lines and lines[0].lstrip().startswith("/**"):
        while i < len(lines):
            doc.append(lines[i])
            i += 1
            if "*/" in doc[-1]:
                break
    else:
        while i < len(lines) and lines[i].lstrip().startswith("//"):
            doc.append(lines[i])
            i += 1
    text = " ".join(re.sub(r"^\s*(/\*\*|\*/|\*|//)\s?", "", d).replace("*/", "").strip() for d in doc)
    return re.sub(r"\s+", " ", text).strip(), lines[i:]


def query_terms(query: str) -> set[str]:
    return {t for t in knowledge.split_identifiers(query).split() if len(t) > 2 and t not in _STOP}


def snippet(content: str, query: str, max_lines: int = SNIPPET_LINES) -> str:
    """The declaration line and the window of lines that mention the query most, gaps as ``…``."""
    _, lines = split_doc(content)
    lines = [line for line in lines if line.strip()] or content.splitlines()[:1]
    if len(lines) <= max_lines:
        return "\n".join(_clip(line) for line in lines)
    terms = query_terms(query)
    scores = [len(terms & set(knowledge.split_identifiers(line).split())) for line in lines]
    width = max_lines - 1
    best = max(range(1, len(lines) - width + 1), key=lambda s: (sum(scores[s:s + width]), -s))
    chosen = [lines[0]] + (["…"] if best > 1 else []) + lines[best:best + width]
    if best + width < len(lines):
        chosen.append("…")
    return "\n".join(_clip(line) for line in chosen)


def lines_text(start: int | None, end: int | None) -> str:
    if start is None:
        return ""
    return f"{start}-{end}" if end and end != start else str(start)


# ---- search ----------------------------------------------------------------------------


def search(conn: psycopg.Connection, query: str, k: int = DEFAULT_K, repo: str | None = None,
           kind: str | None = None, *, snippet_lines: int = SNIPPET_LINES,
           summary: knowledge.SummaryModel | None = None) -> dict[str, Any]:
    """The ranking of ``cogo search`` (``store.knowledge.search``), each hit trimmed for reading.

    ``kind`` keeps one chunk type (code, markdown, sql) or one symbol kind (function, class, …);
    the filter runs over a deeper list, so it never changes the order of what it keeps.
    ``summary``: the summary model of a warm process (``pipeline/summaries.SummaryEncoder``)."""
    query = check_text(query, "query", MAX_QUERY_CHARS)
    k = check_k(k)
    repo = check_repo(conn, repo)
    if kind is not None and kind.strip():
        kind = kind.strip().lower()
        if kind not in CHUNK_TYPES + SYMBOL_KINDS:
            raise ToolInputError(f"unknown kind {kind!r}; one of: {', '.join(CHUNK_TYPES + SYMBOL_KINDS)}")
    else:
        kind = None
    try:
        hits = knowledge.search(conn, query, k=min(200, k * 8) if kind else k, repo=repo, summary=summary)
    except knowledge.EmptyIndexError as exc:
        raise ToolInputError(str(exc)) from None
    if kind:
        hits = [h for h in hits if kind in (h.chunk_type, h.kind or ("module" if h.chunk_type == "code" else ""))]
    show_repo = repo is None and several_repos(conn)
    words = sorted(query_words(query))
    results = []
    for h in hits[:k]:
        item: dict[str, Any] = {"path": h.path, "lines": lines_text(h.start_line, h.end_line)}
        if show_repo:
            item["repo"] = h.repo
        text = f"{h.path}\n{h.symbol or ''}\n{h.content}".lower()
        item.update(symbol=h.symbol, kind=h.kind or h.chunk_type, score=round(h.score, 3),
                    matched=[w for w in words if w in text], snippet=snippet(h.content, query, snippet_lines))
        results.append(item)
    out: dict[str, Any] = {"query": query, "results": results}
    # scores are relative (the best hit is ~1 whatever it is): say when no hit holds a word of the
    # query, so an agent can tell "found by meaning alone" from "found"
    if words and results and not any(r["matched"] for r in results):
        out["note"] = "no result contains a word of the query: they are ranked by meaning alone"
    return out


# ---- symbols ---------------------------------------------------------------------------


def _split_qualified(text: str) -> tuple[str | None, str]:
    """``src/a.ts:Name`` / ``src/a.ts::Name`` / ``src/a.ts#Name`` → (path, name)."""
    for sep in ("::", "#", ":"):
        left, found, right = text.rpartition(sep)
        if found and right and ("/" in left or "." in left) and "/" not in right:
            return left, right
    return None, text


def resolve(conn: psycopg.Connection, name_or_id: Any, repo: str | None) -> Resolved:
    """The symbol (or file) an argument names: an id, ``path:Name``, a qualified or short name,
    or a file path. Several matches: the best (exact name, exported, highest rank), the rest in
    ``others``; none: an error with the closest names."""
    text = check_text(name_or_id, "symbol", MAX_NAME_CHARS)
    if _NODE_ID.fullmatch(text):
        found = code_graph.nodes(conn, [text]).get(text)
        if found is None:
            raise ToolInputError(f"no symbol with id {text}")
        return Resolved(found, [])
    path, name = _split_qualified(text)
    rows = code_graph.find_symbols(conn, name, repo, path=path)
    if not rows and "/" in text:
        rows = code_graph.file_node(conn, text, repo)
    if not rows:
        near = code_graph.similar_names(conn, name, repo)
        where = f" in {path}" if path else (f" in repo {repo!r}" if repo else "")
        hint = f"; did you mean: {', '.join(near)}" if near else "; try search(query) to find it"
        raise ToolInputError(f"no symbol {name!r}{where}{hint}")
    return Resolved(rows[0], rows[1:])


def node_ref(node: dict[str, Any], *, repo: bool = False) -> dict[str, Any]:
    """The few fields that name a node in an answer."""
    ref = {"symbol": "<module>" if node["kind"] == "file" else node["qualified_name"], "path": node["path"],
           "line": node["start_line"]}
    if repo:
        ref["repo"] = node["repo"]
    return ref


def _others(resolved: Resolved, show_repo: bool) -> list[dict[str, Any]]:
    return [{**node_ref(o, repo=show_repo), "id": o["id"], "kind": o["kind"]} for o in resolved.others[:5]]


def symbol(conn: psycopg.Connection, name_or_id: str, repo: str | None = None,
           *, source_lines: int = SOURCE_LINES) -> dict[str, Any]:
    """Definition, signature, doc comment and source lines of one symbol (members of a class)."""
    repo = check_repo(conn, repo)
    name_or_id = check_text(name_or_id, "name_or_id", MAX_NAME_CHARS)  # (a NUL was a store error)
    show_repo = repo is None and several_repos(conn)
    try:
        resolved = resolve(conn, name_or_id, repo)
    except ToolInputError:
        named = _named_chunk(conn, name_or_id, repo, show_repo, source_lines)
        if named is None:
            raise
        return named
    node = resolved.node
    out: dict[str, Any] = {"id": node["id"]}
    if show_repo:
        out["repo"] = node["repo"]
    out.update(path=node["path"], lines=lines_text(node["start_line"], node["end_line"]), kind=node["kind"],
               name=node["qualified_name"], signature=node["signature"], exported=node["exported"],
               rank=round(node["rank"] or 0.0, 3))
    if node["kind"] == "file":
        out["symbols"] = [f"{s['qualified_name']} ({s['kind']}) {lines_text(s['start_line'], s['end_line'])}"
                          for s in code_graph.file_symbols(conn, node["repo"], node["path"]) if s["kind"] != "file"][:60]
    else:
        chunks = code_graph.symbol_chunks(conn, node["repo"], node["path"], node["qualified_name"])
        doc, lines = split_doc("\n".join(c["content"] for c in chunks))
        if doc:
            out["doc"] = doc[:600]
        if lines:
            more = len(lines) - source_lines
            out["source"] = "\n".join(_clip(line) for line in lines[:source_lines]) + (
                f"\n… {more} more lines" if more > 0 else "")
        prefix = node["qualified_name"] + "."
        members = [s for s in code_graph.file_symbols(conn, node["repo"], node["path"])
                   if s["qualified_name"].startswith(prefix)]
        if members:
            out["members"] = [f"{m['name']} ({m['kind']}) {lines_text(m['start_line'], m['end_line'])}"
                              for m in members[:60]]
    if resolved.others:
        out["also_named"] = _others(resolved, show_repo)
    return out


def _named_chunk(conn: psycopg.Connection, text: str, repo: str | None, show_repo: bool,
                 source_lines: int) -> dict[str, Any] | None:
    """A SQL object (``claim_job``) or a markdown section is named in the chunks, not the graph."""
    path, name = _split_qualified(text.strip())
    rows = code_graph.named_chunks(conn, name, repo, path)
    if not rows:
        return None
    row = rows[0]
    lines = row["content"].splitlines()
    out: dict[str, Any] = {"repo": row["repo"]} if show_repo else {}
    out.update(path=row["path"], lines=lines_text(row["start_line"], row["end_line"]),
               kind=row["kind"] or row["chunk_type"], name=row["symbol"])
    more = len(lines) - source_lines
    out["source"] = "\n".join(_clip(line) for line in lines[:source_lines]) + (
        f"\n… {more} more lines" if more > 0 else "")
    if len(rows) > 1:
        out["also_named"] = [{"path": r["path"], "lines": lines_text(r["start_line"], r["end_line"])}
                             for r in rows[1:]]
    return out


# ---- the gate and the index ------------------------------------------------------------


def gate_status(conn: psycopg.Connection, *, jobs: int = 10) -> dict[str, Any]:
    """The latest Q1 run and, when it failed, the summary of its gate_fix."""
    run = code_graph.latest_gate_run(conn)
    if run is None:
        return {"q1": None, "note": "the Q1 gate has not run yet (`cogo gate q1`)"}
    q1 = {"run_id": run["id"], "score": None if run["score"] is None else round(run["score"], 3),
          "threshold": run["threshold"], "passed": run["passed"], "succeeded": run["succeeded"],
          "failed": run["failed"], "at": _iso(run["created_at"]),
          "window": [_iso(run["window_start"]), _iso(run["window_end"])]}
    out: dict[str, Any] = {"q1": q1}
    if run["passed"]:
        return out
    from cogo_pipelines.quality import gate_fix  # only here: `cogo search` does not pay for it

    fix = gate_fix.gate_fix_for_run(conn, run["id"])
    if fix is None:
        out["gate_fix"] = None
        return out
    content = fix.get("content") or {}
    failing = []
    for job in (content.get("failing_jobs") or [])[:jobs]:
        entry = {"job": job.get("id"), "type": job.get("type"), "target": job.get("target"),
                 "error": ((job.get("error_excerpt") or "").strip().splitlines() or [""])[0][:240]}
        if job.get("failing_tests"):
            entry["failing_tests"] = job["failing_tests"][:5]
        if job.get("same_error_as"):
            entry["same_error_as"] = job["same_error_as"]
        if job.get("locations"):
            entry["locations"] = [{"path": loc.get("path"), "lines": lines_text(loc.get("start_line"),
                                   loc.get("end_line")), "symbol": loc.get("symbol")} for loc in job["locations"][:3]]
        failing.append(entry)
    out["gate_fix"] = {"id": fix["id"], "url": fix["url"], "failing_total": content.get("failing_total"),
                       "infra_failed": content.get("infra_failed"), "failing_jobs": failing}
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def repos(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The indexed repos, with their sizes and when they were last indexed."""
    return [{**r, "indexed_at": _iso(r["indexed_at"])} for r in code_graph.repos(conn)]


def needs_query_model(conn: psycopg.Connection) -> bool:
    """Whether a search will embed its query (some chunk has a vector): worth loading the model early."""
    return code_graph.has_vectors(conn)


def index_stats(conn: psycopg.Connection, repo: str | None = None) -> dict[str, Any]:
    repo = check_repo(conn, repo)
    return {"repo": repo, **knowledge.index_stats(conn, repo), "repos": len(code_graph.repos(conn))}
