-- Static graph writes (issue 11), continued: the hash index on code_relationships.src_id served
-- no read. Nothing in cogo looks edges up by their source node: the runtime merge matches
-- (src_id, dst_id) pairs, which the dst_id index serves, and the static edges of one source file
-- are already a range of the primary key (an edge id leads with its source file's id prefix,
-- ids.FILE_PREFIX). Every index is paid on each of the ~100k rows that a cold graph of a large
-- repo writes: this one cost ~0.1 s of the server's time on effect's 21 MB (~4 % of the run).
DROP INDEX IF EXISTS code_relationships_src;
