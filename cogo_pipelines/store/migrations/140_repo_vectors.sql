-- Which embedding model made each repo's chunk vectors (store/chunk_writes.py use_vectors_model):
-- a run under another model clears them and embeds again, and search leaves the vector side out
-- while a repo's vectors are another model's than the one its query is embedded with.
CREATE TABLE IF NOT EXISTS repo_vectors (
    repo        text PRIMARY KEY,
    model       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
