-- One row per finished index run (`cogo index` and Dagster's index_job): when, how long, what it
-- did. The sidecar's cogo_index_last_duration_seconds reads the latest finished row.
CREATE TABLE IF NOT EXISTS index_runs (
    id           bigserial PRIMARY KEY,
    repo         text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    seconds      real,
    summary      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS index_runs_repo_finished ON index_runs (repo, finished_at DESC);
