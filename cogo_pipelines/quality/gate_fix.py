"""gate_fix artifacts: what to look at when the Q1 gate fails.

For each failing job: an excerpt of its error and the code locations knowledge search ranks
highest for that error. Written as JSON (for tools and the sidecar) and Markdown (for people)
under ``$COGO_HOME/artifacts/gate_fix/<id>.{json,md}``, indexed by a ``gate_fixes`` row. A
missing or empty knowledge store degrades the artifact (it says so) instead of failing it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import psycopg

from cogo_pipelines.quality.gate import GateResult, jsonable
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import knowledge

EXCERPT_LINES = 30
EXCERPT_CHARS = 1500
QUERY_CHARS = 800
_SIGNAL = re.compile(r"error|fail|exception|assert|expected|cannot|undefined|\.tsx?:\d+|\bat\s", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@\s]+@", re.IGNORECASE)

# ChainableUndefined: a stored artifact missing a field (an older or hand-made row) renders
# that field empty instead of failing, so the sidecar can always serve what is stored.
MARKDOWN = jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              undefined=jinja2.ChainableUndefined)
MARKDOWN_TEMPLATE = MARKDOWN.from_string("""\
# gate_fix {{ fix.id }}: Q1 {{ "%.3f"|format(fix.score) if fix.score is number else "n/a" }} (threshold {{ "%.2f"|format(fix.threshold) if fix.threshold is number else "n/a" }})

{{ fix.message }}

- source: {{ fix.source }}, quality run: {{ fix.quality_run_id if fix.quality_run_id is not none else fix.source_run_id }}
- window: {{ fix.window.start }} .. {{ fix.window.end }}
- job types: {{ fix.job_types|join(", ") }}{% if fix.target %}, target: {{ fix.target }}{% endif %}

- failing jobs: {{ fix.failing_total }} ({{ fix.failing_jobs|length }} listed)
- knowledge: {{ fix.knowledge.note }}

{% for job in fix.failing_jobs %}
## Job {{ job.id }} ({{ job.type }} on {{ job.executor_id }}, finished {{ job.finished_at }})
{% if job.command %}

Command: `{{ job.command }}`
{% endif %}

{% if job.same_error_as %}
Same error as job {{ job.same_error_as }} (excerpt and locations above).

{% else %}
```text
{{ job.error_excerpt or "(no error text recorded)" }}
```

{% if job.locations %}
| # | path | symbol | lines | score |
|---|------|--------|-------|-------|
{% for loc in job.locations %}
| {{ loop.index }} | `{{ loc.path }}` | {{ loc.symbol or "-" }} | {{ loc.start_line }}-{{ loc.end_line }} | {{ "%.3f"|format(loc.score) }} |
{% endfor %}
{% else %}
No code locations: {{ job.locations_note or fix.knowledge.note }}
{% endif %}
{% endif %}

{% else %}
No failing jobs to list: {{ fix.message }}
{% endfor %}
""")


def scrub(text: str) -> str:
    """Drop configured secrets and URL passwords: artifacts are shared, secrets are not."""
    for secret in get_settings().secret_values():
        text = text.replace(secret, "***")
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def error_excerpt(error: str | None) -> str:
    lines = [line.rstrip() for line in scrub(error or "").splitlines() if line.strip()]
    excerpt = "\n".join(lines[-EXCERPT_LINES:])
    return excerpt[-EXCERPT_CHARS:]


def search_text(excerpt: str) -> str:
    """The part of an error worth embedding: lines that name a failure or a source position."""
    lines = excerpt.splitlines()
    signal = [line.strip() for line in lines if _SIGNAL.search(line)]
    return "\n".join(signal or lines)[:QUERY_CHARS]


class _Locator:
    """Knowledge search for error texts, asked once per distinct error."""

    def __init__(self, conn: psycopg.Connection, k: int):
        self.conn, self.k = conn, k
        self.status, self.note = "ok", "code locations from knowledge search"
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def locate(self, text: str) -> tuple[list[dict[str, Any]], str | None]:
        if self.status == "empty" or not text.strip():
            return [], None if text.strip() else "no error text to search for"
        if text in self._cache:
            return self._cache[text], None
        try:
            with self.conn.transaction():
                hits = knowledge.search(self.conn, text, k=self.k)
        except knowledge.EmptyIndexError as exc:
            self.status, self.note = "empty", f"knowledge store is empty ({exc})"
            return [], None
        except Exception as exc:  # noqa: BLE001 - a broken search degrades the artifact, never the gate
            return [], f"knowledge search failed: {type(exc).__name__}: {exc}"
        found = [_location(hit) for hit in hits]
        self._cache[text] = found
        return found, None


def _location(hit: Any) -> dict[str, Any]:
    get = hit.get if isinstance(hit, dict) else lambda name: getattr(hit, name, None)
    return {
        "path": get("path"),
        "symbol": get("symbol"),
        "chunk_type": get("chunk_type"),
        "start_line": get("start_line"),
        "end_line": get("end_line"),
        "score": round(float(get("score") or 0.0), 4),
    }


def build_content(result: GateResult, conn: psycopg.Connection, *, k: int = 5) -> dict[str, Any]:
    locator = _Locator(conn, k)
    jobs = []
    first_with: dict[str, Any] = {}
    for job in result.failing_jobs:
        excerpt = error_excerpt(job.get("error"))
        locations, note = locator.locate(search_text(excerpt))
        entry = {key: job.get(key) for key in ("id", "type", "executor_id", "finished_at", "attempts", "target")}
        entry["command"] = scrub(job["command"]) if job.get("command") else None
        entry.update(error_excerpt=excerpt, locations=locations, locations_note=note,
                     same_error_as=first_with.setdefault(excerpt, job.get("id")) if excerpt else None)
        if entry["same_error_as"] == entry["id"]:
            entry["same_error_as"] = None
        jobs.append(jsonable(entry))
    return {
        "gate": "q1",
        "source": result.source,
        "quality_run_id": result.run_id if result.source == "db" else None,
        "source_run_id": result.run_id,
        "score": result.score,
        "threshold": result.threshold,
        "passed": result.passed,
        "succeeded": result.succeeded,
        "failed": result.failed,
        "message": result.message,
        "window": {
            "start": result.window_start.isoformat() if result.window_start else None,
            "end": result.window_end.isoformat() if result.window_end else None,
        },
        "job_types": list(result.job_types),
        "target": result.target,
        "knowledge": {"status": locator.status, "note": locator.note} if jobs
        else {"status": "skipped", "note": "no failing jobs to search for"},
        "failing_total": result.failed,
        "failing_jobs": jobs,
    }


def render_markdown(content: dict[str, Any]) -> str:
    return MARKDOWN_TEMPLATE.render(fix=content)


def gate_fix_dir() -> Path:
    return get_settings().artifacts_dir / "gate_fix"


def gate_fix_url(fix_id: int) -> str:
    settings = get_settings()
    base = settings.public_base_url or f"http://127.0.0.1:{settings.metrics_port}"
    return f"{base.rstrip('/')}/api/gate-fix/{fix_id}"


def write_gate_fix(conn: psycopg.Connection, result: GateResult, *, k: int = 5) -> dict[str, Any]:
    """Write the artifact files and their gate_fixes row; returns the row as ``get_gate_fix`` does."""
    folder = gate_fix_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with conn.transaction():
        content = build_content(result, conn, k=k)
        row = conn.execute(
            "INSERT INTO gate_fixes (quality_run_id, content) VALUES (%s, '{}'::jsonb) RETURNING id, created_at",
            (content["quality_run_id"],),
        ).fetchone()
        fix_id = row["id"]
        content = {"id": fix_id, "created_at": row["created_at"].astimezone(UTC).isoformat(), **content}
        json_path, md_path = folder / f"{fix_id}.json", folder / f"{fix_id}.md"
        json_path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        md_path.write_text(render_markdown(content), encoding="utf-8")
        conn.execute(
            "UPDATE gate_fixes SET json_path = %s, markdown_path = %s, content = %s WHERE id = %s",
            (str(json_path), str(md_path), json.dumps(content), fix_id),
        )
    return _as_dict({"id": fix_id, "quality_run_id": content["quality_run_id"], "created_at": row["created_at"],
                     "json_path": str(json_path), "markdown_path": str(md_path), "content": content})


def _as_dict(row: dict[str, Any]) -> dict[str, Any]:
    created = row["created_at"]
    return {
        "id": row["id"],
        "quality_run_id": row["quality_run_id"],
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "json_path": row["json_path"],
        "markdown_path": row["markdown_path"],
        "url": gate_fix_url(row["id"]),
        "content": row["content"],
        "markdown": render_markdown(row["content"]) if row["content"] else "",
    }


_SELECT = "SELECT id, quality_run_id, created_at, json_path, markdown_path, content FROM gate_fixes"


def get_gate_fix(conn: psycopg.Connection, fix_id: int) -> dict[str, Any] | None:
    row = conn.execute(f"{_SELECT} WHERE id = %s", (fix_id,)).fetchone()
    return _as_dict(row) if row else None


def latest_gate_fix(conn: psycopg.Connection) -> dict[str, Any] | None:
    row = conn.execute(f"{_SELECT} ORDER BY id DESC LIMIT 1").fetchone()
    return _as_dict(row) if row else None
