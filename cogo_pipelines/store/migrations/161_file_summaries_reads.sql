-- The reads of a search with summaries stay cheap on a large repo (store/file_summaries.py): the
-- nearest summaries through an HNSW index (a repo of 100k files was a 150 MB scan per question),
-- and "is every summary embedded by this model?" as two empty index ranges instead of a count.
CREATE INDEX IF NOT EXISTS file_summaries_embedding_hnsw ON file_summaries USING hnsw (embedding vector_cosine_ops);
CREATE INDEX IF NOT EXISTS file_summaries_repo_model ON file_summaries (repo, model);
