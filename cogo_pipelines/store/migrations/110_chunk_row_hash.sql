-- A hash of everything a chunk row was written from (its columns, its keyword fields, the chunk
-- format): an edited file keeps the rows whose hash is unchanged instead of deleting and
-- inserting every one. Each re-inserted row cost a fresh HNSW insert of its vector and its BM25
-- postings again (one edit of effect's 864-chunk Schema.ts: 1.4 s of chunks, 1.8 s of vectors).
-- Rows written before this column have no hash and are written again once.
ALTER TABLE code_chunks ADD COLUMN IF NOT EXISTS row_hash text;
