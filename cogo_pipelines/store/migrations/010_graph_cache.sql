-- Static graph (issue 11): per-file extraction results cached by content, and what the last
-- run of each repo saw, so an unchanged file is never re-parsed and an unchanged repo is skipped.
CREATE TABLE IF NOT EXISTS graph_extractions (
    content_hash       text NOT NULL,
    grammar            text NOT NULL,  -- typescript | tsx
    extractor_version  text NOT NULL,  -- changes whenever the extractor's code changes
    data               jsonb NOT NULL, -- model.FileExtraction.to_json()
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (content_hash, grammar, extractor_version)
);

CREATE TABLE IF NOT EXISTS graph_state (
    repo         text PRIMARY KEY,
    fingerprint  text NOT NULL,
    stats        jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS code_relationships_repo_kind ON code_relationships (repo, kind);
