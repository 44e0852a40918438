-- Queue additions (issue 6): dependencies between jobs, an audit trail of every state change,
-- and NOTIFY so idle runners wake at once instead of polling fast.

-- A job whose depends_on ids are still queued/running is not claimable (plan.quality's
-- quality.q1 job waits for its code.build.test jobs this way).
ALTER TABLE jobs ADD COLUMN depends_on bigint[];
CREATE INDEX jobs_depends_on ON jobs USING gin (depends_on) WHERE depends_on IS NOT NULL;

-- One row per transition; a double completion would show up as two terminal rows.
CREATE TABLE job_events (
    id        bigserial PRIMARY KEY,
    job_id    bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    event     text NOT NULL,
    owner     text,
    attempt   integer NOT NULL DEFAULT 0,
    detail    text,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job ON job_events (job_id, id);

-- Payload = executor id; Postgres folds identical notifications of one transaction, so a bulk
-- enqueue sends one message per executor, not one per row.
CREATE FUNCTION cogo_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'queued' THEN
        PERFORM pg_notify('cogo_jobs', NEW.executor_id);
    ELSIF NEW.status IN ('succeeded', 'failed', 'dead') THEN
        -- dependants that may just have become claimable
        PERFORM pg_notify('cogo_jobs', d.executor_id)
        FROM jobs d
        WHERE d.depends_on @> ARRAY[NEW.id] AND d.depends_on IS NOT NULL AND d.status = 'queued';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION cogo_jobs_notify();
CREATE TRIGGER jobs_notify_status AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION cogo_jobs_notify();
