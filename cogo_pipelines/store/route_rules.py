"""The ``route_rules`` table: router-select's rules as the operators configured them.

Read by both the sidecar's router-select and the queue's local routing, so a job is routed the
same way whether ROUTER_SELECT_URL is set or not. An empty table means the built-in rules.
"""

from __future__ import annotations

import psycopg

from cogo_pipelines.edge import router


def load_rules(conn: psycopg.Connection) -> list[router.RouteRule] | None:
    """The configured rules in table order (ties keep it), or None for the built-in ones."""
    rows = conn.execute(
        "SELECT pattern, executor_id, provider, model, priority FROM route_rules ORDER BY id").fetchall()
    return router.rules_from_dicts(rows) if rows else None
