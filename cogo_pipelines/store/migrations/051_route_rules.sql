-- router-select rules table (issue 8): job-type glob -> executor/provider/model; the highest
-- priority match wins, ties by id. Empty table = the built-in rules of edge/router.py.
CREATE TABLE IF NOT EXISTS route_rules (
    id           bigserial PRIMARY KEY,
    pattern      text NOT NULL,
    executor_id  text NOT NULL,
    provider     text,
    model        text,
    priority     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
