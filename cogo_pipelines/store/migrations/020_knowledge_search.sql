-- Knowledge store (issue 4): keyword document, embedding cache, per-file chunk bookkeeping.

-- content_hash = hash of the embedded text (header + body), the key of chunk_embeddings.
ALTER TABLE code_chunks ADD COLUMN IF NOT EXISTS file_hash text;
ALTER TABLE code_chunks ADD COLUMN IF NOT EXISTS part integer NOT NULL DEFAULT 0;
-- Weighted keyword document: A path + names, B header/signature, C body, D file outline;
-- identifiers are split (camelCase, snake_case, paths) before to_tsvector, see store/knowledge.py.
ALTER TABLE code_chunks ADD COLUMN IF NOT EXISTS search_tsv tsvector;
CREATE INDEX IF NOT EXISTS code_chunks_search_gin ON code_chunks USING gin (search_tsv);
CREATE INDEX IF NOT EXISTS code_chunks_content_hash ON code_chunks (content_hash);

-- An unchanged text is never embedded twice: vectors by (text hash, model).
CREATE TABLE IF NOT EXISTS chunk_embeddings (
    content_hash  text NOT NULL,
    model         text NOT NULL,
    embedding     vector(384) NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (content_hash, model)
);

-- Which version of each file the chunks were made from; a hash mismatch means re-chunk.
CREATE TABLE IF NOT EXISTS chunked_files (
    repo        text NOT NULL,
    path        text NOT NULL,
    file_hash   text NOT NULL,
    chunks      integer NOT NULL DEFAULT 0,
    error       text,
    chunked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo, path)
);

-- Document frequency of each keyword lexeme per repo, for IDF weighting of query terms.
CREATE TABLE IF NOT EXISTS chunk_terms (
    repo  text NOT NULL,
    term  text NOT NULL,
    ndoc  integer NOT NULL,
    PRIMARY KEY (repo, term)
);
