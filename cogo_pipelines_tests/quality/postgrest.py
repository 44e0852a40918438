"""A PostgREST stand-in that answers from a real Postgres: the subset of PostgREST the Supabase
source speaks (``select`` with aliases and JSON paths, ``eq``/``gte``/``lte``/``like``/``in``/
``is`` filters, a positive ``or=(...)``, ``order``, ``limit``/``offset``, HEAD with
``Prefer: count=exact``, an insert returning its row), translated to SQL over the embedded
store's tables. Supabase is an outside service, so a real HTTP server on 127.0.0.1 stands in for
it; answering from the same rows the db source reads makes the two sources comparable row for row.

Like PostgREST, a condition over a NULL column is NULL (so ``like`` never matches a NULL error),
and ``*`` in a ``like`` pattern is ``%``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg.rows import dict_row

from cogo_pipelines_tests.quality.helpers import LocalServer

TABLES = frozenset({"jobs", "quality_runs"})
_FIELD = re.compile(r"^([a-z_][a-z0-9_]*)((?:->>?[a-z_][a-z0-9_]*)*)$")
_OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "LIKE"}
_CONTROL = frozenset({"select", "order", "limit", "offset", "or", "columns"})


class BadRequest(ValueError):
    """What real PostgREST answers 400 to (an operator or column this stand-in does not speak)."""


def field(text: str) -> str:
    """``result->>timed_out`` as SQL (``result->>'timed_out'``); only plain names and JSON keys."""
    match = _FIELD.match(text)
    if not match:
        raise BadRequest(f"unsupported column {text!r}")
    path = re.sub(r"(->>?)([a-z0-9_]+)", r"\1'\2'", match.group(2))
    return f'"{match.group(1)}"{path}'


def condition(column: str, expression: str, params: list[Any]) -> str:
    """One filter (``status=eq.failed``) as SQL, its value appended to ``params``."""
    op, _, value = expression.partition(".")
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = value[1:-1]
    sql = field(column)
    if op == "in":
        params.append([v.strip('"') for v in value.strip("()").split(",")])
        return f"{sql} = ANY(%s)"
    if op == "is":
        if value not in ("null", "true", "false"):
            raise BadRequest(f"unsupported is.{value}")
        return f"{sql} IS {value.upper()}"
    if op not in _OPS:
        raise BadRequest(f"unsupported operator {op!r}")
    params.append(value.replace("*", "%") if op == "like" else value)
    return f"{sql} {_OPS[op]} %s"


def split_top(text: str) -> list[str]:
    """``a.eq.1,b.like."x, y"`` -> its conditions: commas outside quotes and parentheses."""
    parts, depth, quoted, current = [], 0, False, ""
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
        elif not quoted and depth == 0 and ch == ",":
            parts.append(current)
            current = ""
            continue
        current += ch
    return [*parts, current] if current else parts


def where(params_in: list[tuple[str, str]], params: list[Any]) -> str:
    clauses = []
    for key, value in params_in:
        if key == "or":
            conds = []
            for cond in split_top(value.removeprefix("(").removesuffix(")")):
                column, _, expression = cond.partition(".")
                conds.append(condition(column, expression, params))
            clauses.append("(" + " OR ".join(conds) + ")")
        elif key not in _CONTROL:
            clauses.append(condition(key, value, params))
    return " AND ".join(clauses) or "true"


def select_list(select: str) -> str:
    columns = []
    for item in split_top(select):
        alias, _, expression = item.rpartition(":") if ":" in item else ("", "", item)
        name = alias or re.split(r"->>?", expression)[-1]
        columns.append(f'{field(expression)} AS "{name}"')
    return ", ".join(columns)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class PostgrestOverPostgres(LocalServer):
    """A real HTTP server on 127.0.0.1 answering PostgREST requests from ``database_url``; each
    request is recorded as (method, path with query)."""

    def __init__(self, database_url: str) -> None:
        self.requests: list[tuple[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: Any = None, headers: tuple[tuple[str, str], ...] = ()) -> None:
                data = b"" if body is None else json.dumps(body, default=_plain).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _table(self) -> tuple[str, list[tuple[str, str]]]:
                parts = urlsplit(self.path)
                owner.requests.append((self.command, self.path))
                table = parts.path.removeprefix("/rest/v1/")
                if table not in TABLES:
                    raise BadRequest(f"unknown table {table!r}")
                return table, parse_qsl(parts.query, keep_blank_values=True)

            def _answer(self, read: Any) -> None:
                try:
                    read()
                except BadRequest as exc:
                    self._reply(400, {"code": "PGRST100", "message": str(exc), "details": None, "hint": None})

            def do_HEAD(self) -> None:
                self._answer(self._count)

            def do_GET(self) -> None:
                self._answer(self._rows)

            def do_POST(self) -> None:
                self._answer(self._insert)

            def _count(self) -> None:
                table, query = self._table()
                params: list[Any] = []
                sql = f"SELECT count(*) AS n FROM {table} WHERE {where(query, params)}"
                with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
                    n = conn.execute(sql, params).fetchone()["n"]
                self._reply(200, headers=(("Content-Range", f"*/{n}"),))

            def _rows(self) -> None:
                table, query = self._table()
                options = dict(query)
                params: list[Any] = []
                sql = f"SELECT {select_list(options.get('select', '*'))} FROM {table} WHERE {where(query, params)}"
                if "order" in options:
                    sql += " ORDER BY " + ", ".join(
                        f"{field(col)} {'DESC' if direction == 'desc' else 'ASC'}"
                        for col, _, direction in (o.partition(".") for o in options["order"].split(",")))
                sql += f" LIMIT {int(options.get('limit', 1000))} OFFSET {int(options.get('offset', 0))}"
                with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
                    rows = conn.execute(sql, params).fetchall()
                self._reply(200, rows, (("Content-Range", f"0-{max(len(rows) - 1, 0)}/*"),))

            def _insert(self) -> None:
                table, _ = self._table()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                row = body[0] if isinstance(body, list) else body
                names = [field(name) for name in row]
                values = [json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()]
                sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
                       " RETURNING *")
                with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
                    inserted = conn.execute(sql, values).fetchone()
                self._reply(201, [inserted])

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler)
