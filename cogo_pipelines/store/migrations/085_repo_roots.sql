-- The repo a name stands for: the store keys everything by `repo`, so two folders under one name
-- (rxjs, tRPC and effect all unpack as `package/`) would overwrite each other. The first root to
-- index under a name holds it; another root is refused (store/knowledge.claim_repo).
CREATE TABLE IF NOT EXISTS repo_roots (
    repo          text PRIMARY KEY,
    root          text NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
