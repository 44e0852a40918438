"""SQL chunks: one chunk per ``create`` statement with its object name (``sqlparse`` splits,
so dollar-quoted bodies with semicolons stay whole); runs of small other statements are merged.

Apart from the other chunkers because a migration's units are its statements, named by the
object they define (``create function claim_job``), which is what a search for it says.
"""

from __future__ import annotations

from cogo_pipelines.indexing.chunk import MAX_CHUNK_CHARS, Chunk
from cogo_pipelines.indexing.text_chunks import chunk_text, split_text

_OBJECT_TYPES = {
    "TABLE", "FUNCTION", "PROCEDURE", "INDEX", "VIEW", "TRIGGER", "POLICY", "TYPE", "EXTENSION",
    "SCHEMA", "SEQUENCE", "ROLE", "DOMAIN", "MATERIALIZED",
}  # fmt: skip
_SKIP = {
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNIQUE",
    "IF",
    "NOT",
    "EXISTS",
    "CONCURRENTLY",
    "UNLOGGED",
    "VIEW",
    "ONLY",
}


def sql_object(statement) -> tuple[str | None, str | None]:
    """(kind, name) of a DDL statement, e.g. ("create function", "claim_job")."""
    from sqlparse import tokens as T  # deferred, as in chunk_sql
    words = [t for t in statement.flatten() if not t.is_whitespace and t.ttype not in T.Comment]
    if words and words[0].ttype in T.Keyword.CTE:
        import sqlparse

        # `WITH x AS (…) DELETE …`: what it does is read past the grouped CTE (chunk_sql splits
        # without grouping, which costs 3x the splitting on every statement)
        statement = sqlparse.parse(str(statement))[0]
    if (
        not words
        or words[0].ttype not in T.Keyword.DDL
        and words[0].normalized not in ("ALTER", "COMMENT", "GRANT")
    ):
        return (statement.get_type().lower() if statement.get_type() != "UNKNOWN" else None), None
    verb, kind, name = words[0].normalized.split()[0].lower(), None, []
    for tok in words[1:]:
        up = tok.normalized.upper()
        skip = all(w in _SKIP for w in up.split())
        if kind is None:
            if up in _OBJECT_TYPES:
                kind = up.lower() if up != "MATERIALIZED" else "materialized view"
            continue
        if skip and not name:
            continue
        if (
            tok.ttype in T.Name
            or tok.ttype in T.Literal.String.Symbol
            or (tok.ttype in T.Keyword and not name)
        ):
            name.append(tok.value.strip('"'))
        elif tok.value == "." and name:
            continue
        else:
            break
    return f"{verb} {kind}" if kind else verb, ".".join(name) or None


def chunk_sql(path: str, text: str) -> tuple[list[Chunk], str | None]:
    # deferred (with markdown_it in chunk_markdown): importing ``chunking`` loads no parser
    # that a repository without SQL or markdown never needs
    from sqlparse import tokens as T
    from sqlparse.engine import FilterStack

    # the statements as ``sqlparse.split`` makes them (lexed, not grouped: grouping cost 3x the
    # rest, and refused a statement of more than 10,000 tokens, a seed file's one INSERT)
    statements = list(FilterStack().run(text))
    if any(tok.ttype in T.Error for st in statements for tok in st.flatten()):
        bad = next(tok for st in statements for tok in st.flatten() if tok.ttype in T.Error)
        return chunk_text(
            path, text
        ), f"SQL did not parse (unexpected {bad.value!r}, e.g. an unterminated quote); indexed as plain text"
    chunks: list[Chunk] = []
    offset = 0
    line = 1  # of ``offset``: counted on from the statement before (from the top each time was quadratic)
    for st in statements:
        raw = str(st)
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        start = line + text.count("\n", offset, offset + lead)
        line += text.count("\n", offset, offset + len(raw))
        offset += len(raw)
        if not body:
            continue
        end = start + body.count("\n")
        kind, name = sql_object(st)
        prev = chunks[-1] if chunks else None
        if (
            prev is not None and not prev.object_name and not name
            and len(prev.content) + len(body) < MAX_CHUNK_CHARS
        ):  # fmt: skip
            prev.content += "\n" + body
            prev.end_line = end
            continue
        chunks.append(
            Chunk(path, "sql", body, start, end, symbol=name, kind=kind, object_name=name, part=len(chunks))
        )
    return [
        c for big in chunks for c in (split_text(big) if len(big.content) > MAX_CHUNK_CHARS else [big])
    ], None
