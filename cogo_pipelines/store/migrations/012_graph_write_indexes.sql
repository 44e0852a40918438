-- Static graph writes (issue 11): a cold graph writes tens of thousands of relationship rows and
-- every secondary index is paid on each. The indexes now match the reads:
-- * (repo, kind) held a handful of values per repo and only served the module-graph reads; a
--   partial index over the import rows serves them at a tenth of the size;
-- * repo-wide scans (merge deletes, mirrors, checks) use a BRIN summary of repo, which fits
--   because a repo's rows are written together;
-- * src_id / dst_id are only ever compared for equality (edges out of / into a node): hash
--   indexes, cheaper to insert into than b-trees over random 32-hex ids;
-- * ast_nodes (repo, qualified_name) served no query: names are looked up within a file, which
--   the (repo, path) index serves.
DROP INDEX IF EXISTS code_relationships_repo_kind;
DROP INDEX IF EXISTS code_relationships_repo_path;
DROP INDEX IF EXISTS code_relationships_src;
DROP INDEX IF EXISTS code_relationships_dst;
CREATE INDEX IF NOT EXISTS code_relationships_imports ON code_relationships (repo, src_path) WHERE kind = 'imports';
CREATE INDEX IF NOT EXISTS code_relationships_repo_brin ON code_relationships USING brin (repo);
CREATE INDEX IF NOT EXISTS code_relationships_src ON code_relationships USING hash (src_id);
CREATE INDEX IF NOT EXISTS code_relationships_dst ON code_relationships USING hash (dst_id);
DROP INDEX IF EXISTS ast_nodes_qualified;
