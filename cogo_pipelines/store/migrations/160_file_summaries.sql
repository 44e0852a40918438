-- One short text per indexed file (its path, names, headers and opening lines) and that text's
-- vector from the summary model, a sentence transformer (store/file_summaries.py). Search adds
-- the files nearest the question to its hybrid ranking where a warm process can embed the
-- question with the same transformer (the MCP server, the sidecar). The texts are written by
-- every index run; the vectors by `cogo index --summaries`, Dagster's file_summaries asset, or a
-- warm process's background fill. `model` says whose vector it is: another model's is stale.
CREATE TABLE IF NOT EXISTS file_summaries (
    repo        text NOT NULL,
    path        text NOT NULL,
    text_hash   text NOT NULL,
    text        text NOT NULL,
    model       text,
    embedding   vector(384),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo, path)
);
-- a repo's files are few (thousands): the nearest are read by an exact scan of its rows
CREATE INDEX IF NOT EXISTS file_summaries_unembedded ON file_summaries (repo) WHERE embedding IS NULL;
