-- Extraction cache payloads as zlib-compressed compact JSON: ~10x cheaper to write than jsonb,
-- and nothing queries inside them. The cache is derived data, so old rows are simply dropped.
TRUNCATE graph_extractions;
ALTER TABLE graph_extractions DROP COLUMN data;
ALTER TABLE graph_extractions ADD COLUMN payload bytea NOT NULL;
