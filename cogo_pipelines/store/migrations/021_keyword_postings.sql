-- BM25 postings: one row per (chunk, lexeme) with its precomputed BM25F term impact, so the
-- keyword side reads the top postings of each query term from an index instead of ranking
-- every matching tsvector (see store/knowledge.py).
CREATE TABLE IF NOT EXISTS chunk_postings (
    repo      text NOT NULL,
    term      text NOT NULL,
    chunk_id  text NOT NULL,
    path      text NOT NULL,
    impact    real NOT NULL
);
CREATE INDEX IF NOT EXISTS chunk_postings_term_impact ON chunk_postings (repo, term, impact DESC) INCLUDE (chunk_id);
CREATE INDEX IF NOT EXISTS chunk_postings_path ON chunk_postings (repo, path);
