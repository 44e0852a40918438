-- Files whose header says a tool wrote them (indexing/generated.py): search scores their chunks
-- lower (store/fusion.py). Rows of a store indexed before this stay false until the next index,
-- which rewrites every row whose flag differs (store/files.py sync_files).
ALTER TABLE files ADD COLUMN IF NOT EXISTS generated boolean NOT NULL DEFAULT false;
