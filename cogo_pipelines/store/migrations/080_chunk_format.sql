-- Which version of the chunker (what text is embedded and keyword-indexed) made a file's
-- chunks: a file chunked by an older format is re-chunked (and its new text re-embedded) on
-- the next index run even when its content did not change (see chunking.CHUNK_FORMAT).
ALTER TABLE chunked_files ADD COLUMN IF NOT EXISTS chunk_format integer NOT NULL DEFAULT 0;
