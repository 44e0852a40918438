-- The GIN index on code_chunks.search_tsv served the keyword search before the BM25 postings
-- (021_keyword_postings.sql); no query reads it since, yet every chunk insert and every vector
-- fill re-inserted each row's whole tsvector into it (a cold vector fill of effect's 17k chunks:
-- 14.3 s with it, 7.5 s without). search_tsv itself stays: the postings are made from it.
DROP INDEX IF EXISTS code_chunks_search_gin;
