"""``noop``: a harmless job for tests, benchmarks and smoke checks of a runner's plumbing."""

from __future__ import annotations

from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed, JobReleased

MAX_SLEEP_S = 300.0


def noop(ctx: JobContext) -> dict:
    """Payload ``{"sleep_s": 0.05, "fail": "why"}``, both optional."""
    sleep_s = ctx.payload.get("sleep_s", 0)
    if isinstance(sleep_s, bool) or not isinstance(sleep_s, (int, float)) or not 0 <= sleep_s <= MAX_SLEEP_S:
        raise JobFailed(f"noop: sleep_s must be a number between 0 and {MAX_SLEEP_S:g}, got {sleep_s!r}")
    if sleep_s and ctx.stopping.wait(sleep_s):
        raise JobReleased("runner stopping")
    if ctx.payload.get("fail"):
        raise JobFailed(f"noop asked to fail: {ctx.payload['fail']}")
    return {"slept_s": sleep_s, "owner": ctx.job.lease_owner, "attempt": ctx.job.attempts}


HANDLERS = {"noop": Handler(noop)}
