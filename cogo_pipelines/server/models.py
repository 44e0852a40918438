"""The REST API's shapes as pydantic models: what a request may carry and what a response holds.

Request models validate (``params.parse``); every model here also writes its part of the
OpenAPI document (``openapi.py``), so the document, the validation and the limits are one
source. Response models describe what the handlers return (rows of ``store/queries``); the
schemathesis test checks every live response against them. A response may carry more fields
than listed (extra properties are allowed), never fewer of the required ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from cogo_pipelines.server.params import (
    ATTEMPTS_RANGE,
    K_RANGE,
    LIMIT_RANGE,
    OFFSET_RANGE,
    PRIORITY_RANGE,
    QUERY_MAX,
    BodyInt,
    IdOrLatest,
    JsonObject,
    Name,
    OneOf,
    OptionalName,
    PathId,
    QueryInt,
    Text,
)
from cogo_pipelines.store.queries import JOB_STATUSES

GATE_FIX_FORMATS = ("json", "markdown", "html")

# --- requests -------------------------------------------------------------------------------


class JobsQuery(BaseModel):
    status: OneOf(JOB_STATUSES) = Field(None, description="Only jobs in this status")
    executor_id: OptionalName = Field(None, description="Only jobs of this executor")
    type: OptionalName = Field(None, description="Only jobs of this type")
    limit: QueryInt(LIMIT_RANGE) = Field(50, description="Page size")
    offset: QueryInt(OFFSET_RANGE) = Field(0, description="Rows to skip")


class HistoryQuery(BaseModel):
    limit: QueryInt(LIMIT_RANGE) = Field(30, description="How many")


class SearchQuery(BaseModel):
    q: Text(QUERY_MAX) = Field(description="Query text")
    k: QueryInt(K_RANGE) = Field(10, description="Number of hits")
    repo: OptionalName = Field(None, description="Only this repository")
    summaries: OneOf(("true", "false"), empty_is_unset=True) = Field(
        None, description="false: leave out the file summary list (its question encode and reads cost ~30-70 ms); "
                          "unset = use it once the summary model is loaded and the repo's summaries are embedded")


class RepoQuery(BaseModel):
    repo: OptionalName = Field(None, description="Only this repository")


class GateFixQuery(BaseModel):
    format: OneOf(GATE_FIX_FORMATS, empty_is_unset=True) = Field(
        None, description="Representation; unset = HTML when Accept starts with text/html, else JSON")


class JobPath(BaseModel):
    id: PathId


class GateFixPath(BaseModel):
    id: IdOrLatest


class EnqueueRequest(BaseModel):
    # Checked in this order; the first problem is the one reported.
    type: Name
    executor_id: OptionalName = Field(None, description="Omit to let router-select decide")
    dedupe_key: OptionalName = None
    payload: JsonObject("Handler input, e.g. {command, cwd, timeout_s}") = {}
    priority: BodyInt(PRIORITY_RANGE, default=0) = 0
    max_attempts: BodyInt(ATTEMPTS_RANGE, default=3) = 3


# --- responses ------------------------------------------------------------------------------


class Error(BaseModel):
    error: str
    status: int


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    store: bool
    db: Literal["up"]


class HealthDown(Error):
    """/healthz's 503: the error, and ``db`` for probes that read one field whatever the status."""

    db: Literal["down"]


class Job(BaseModel):
    id: int
    type: str
    executor_id: str
    status: Literal[JOB_STATUSES]
    priority: int
    attempts: int
    max_attempts: int
    payload: Any
    result: Any
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None


class JobList(BaseModel):
    jobs: list[Job] = Field(description="Newest first. In a list, a payload or result past 8 KB is "
                            "{truncated: true, bytes} and a result has no log_tail: GET /api/jobs/{id} has them whole")
    total: int
    limit: int
    offset: int


class EnqueueResponse(BaseModel):
    job: Job
    deduplicated: bool
    warning: str | None = Field(None, description="Set when the chosen built-in executor has no handler for "
                                                  "the type (a typo?): the job is queued and fails when claimed")


class QualityRun(BaseModel):
    id: int
    gate: str
    source: str
    score: float | None
    threshold: float
    passed: bool
    succeeded: int
    failed: int
    window_start: datetime | None
    window_end: datetime | None
    details: Any
    created_at: datetime


class GateHistory(BaseModel):
    runs: list[QualityRun]


class Snapshot(BaseModel):
    id: int
    kind: str
    q1: float | None
    content: Any
    created_at: datetime


class SnapshotList(BaseModel):
    snapshots: list[Snapshot]


class QueueDepth(BaseModel):
    executor_id: str
    status: str
    count: int


class RepoIndexStats(BaseModel):
    repo: str
    files: int
    symbols: int
    edges: int
    chunks: int
    summaries: int = 0  # file summaries; search adds their list once all are embedded
    summaries_embedded: int = 0
    last_indexed_at: datetime | None = None


class LastIndex(BaseModel):
    repo: str | None
    seconds: float


class IndexStats(BaseModel):
    files: int
    symbols: int
    edges: int
    chunks: int
    summaries: int = 0
    summaries_embedded: int = 0
    repos: list[RepoIndexStats]
    last_index: LastIndex | None = None


class GateFixLink(BaseModel):
    id: int
    quality_run_id: int | None
    created_at: datetime
    url: str


JobCounts = create_model("JobCounts", **{status: (int, ...) for status in JOB_STATUSES})


class Summary(BaseModel):
    generated_at: datetime
    jobs: JobCounts
    queue: list[QueueDepth]
    gate: QualityRun | None
    index: IndexStats
    latest_gate_fix: GateFixLink | None
    store_upkeep_at: datetime | None = Field(
        None, description="When the store last pruned what it keeps no longer (daily; null before the first)")


class GateFix(BaseModel):
    id: int
    quality_run_id: int | None = None
    created_at: datetime
    json_path: str | None = None
    markdown_path: str | None = None
    content: dict[str, Any]


class SearchHit(BaseModel):
    path: str
    symbol: str | None = None
    chunk_type: str
    start_line: int | None = None
    end_line: int | None = None
    score: float
    repo: str | None = None


class SearchResponse(BaseModel):
    query: str
    k: int
    hits: list[SearchHit]


class WeeklySummary(BaseModel):
    """Slack-compatible webhook payload (text, blocks)"""

    text: str
