-- "Is every summary embedded by this model?" across all repos: min(model) and max(model) are two
-- reads at the ends of this index (per repo they are of file_summaries_repo_model).
CREATE INDEX IF NOT EXISTS file_summaries_model ON file_summaries (model);
