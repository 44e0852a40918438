-- One gate point per gate run: a gate evaluation may carry a run key
-- (details.run_key: the queue's quality.q1 job keys it by its plan, `plan:<id>`; Dagster's
-- q1_gate_job and CI pass their own). The first evaluation under a key records the row; a later
-- one under the same key reports that row instead of recording a second point. The index makes
-- that hold under concurrent recorders too (INSERT ... ON CONFLICT DO NOTHING).
CREATE UNIQUE INDEX IF NOT EXISTS quality_runs_run_key ON quality_runs (gate, (details->>'run_key'))
    WHERE details->>'run_key' IS NOT NULL;
