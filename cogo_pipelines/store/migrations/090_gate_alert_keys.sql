-- Gate-failure alerts are keyed on what failed (gate_fix signature), not on the gate run, so five
-- gate runs over the same broken build send one alert. quality_run_id says which run it was sent for.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS dedupe_key text;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS quality_run_id bigint;
CREATE INDEX IF NOT EXISTS notifications_dedupe_key_idx ON notifications (dedupe_key, created_at DESC)
    WHERE dedupe_key IS NOT NULL;
