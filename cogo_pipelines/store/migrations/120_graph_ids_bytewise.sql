-- Graph ids compared byte by byte. Node and edge ids are 32 hex digits (indexing/ids.py); under
-- the database's default collation (C.UTF-8 here, en_US.UTF-8 on a hosted Supabase) every b-tree
-- step of the primary keys calls the locale's strcoll. Hex digits sort the same in any of them,
-- so "C" changes no order and no equality, only the cost: a cold graph of effect 4.1.0 writes
-- ~110k rows, and its COPY cost the server 0.35-0.39 CPU s before, 0.31-0.35 after (4 rounds).
-- All four columns move together: a join of two ids under different collations is an error.
ALTER TABLE ast_nodes ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE code_relationships ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE code_relationships ALTER COLUMN src_id TYPE text COLLATE "C";
ALTER TABLE code_relationships ALTER COLUMN dst_id TYPE text COLLATE "C";
