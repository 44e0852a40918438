-- When the store's periodic upkeep last ran (store/retention.py: the rows no rule keeps any more
-- are deleted at most once a day, by whichever process comes first).
CREATE TABLE IF NOT EXISTS store_maintenance (
    task     text PRIMARY KEY,
    done_at  timestamptz NOT NULL
);
