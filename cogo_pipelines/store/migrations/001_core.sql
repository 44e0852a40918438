-- Core schema: the tables named in DESIGN.md §3-§5. Later migrations add to it, never rewrite it.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Discovered source files, one row per (repo, path); the content hash drives incremental work.
CREATE TABLE files (
    repo          text NOT NULL,
    path          text NOT NULL,
    language      text NOT NULL,
    content_hash  text NOT NULL,
    size          bigint NOT NULL DEFAULT 0,
    error         text,
    indexed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo, path)
);

CREATE TABLE ast_nodes (
    id              text PRIMARY KEY,
    repo            text NOT NULL,
    path            text NOT NULL,
    kind            text NOT NULL,
    name            text NOT NULL,
    qualified_name  text NOT NULL,
    signature       text,
    start_line      integer,
    end_line        integer,
    exported        boolean NOT NULL DEFAULT false,
    entry_weight    real NOT NULL DEFAULT 0,
    runtime_count   integer NOT NULL DEFAULT 0,
    rank            real NOT NULL DEFAULT 0
);
CREATE INDEX ast_nodes_repo_path ON ast_nodes (repo, path);
CREATE INDEX ast_nodes_qualified ON ast_nodes (repo, qualified_name);

CREATE TABLE code_relationships (
    id             text PRIMARY KEY,
    repo           text NOT NULL,
    src_id         text NOT NULL,
    dst_id         text NOT NULL,
    kind           text NOT NULL,
    confidence     text NOT NULL DEFAULT 'certain',
    weight         real NOT NULL DEFAULT 1,
    runtime_count  integer NOT NULL DEFAULT 0,
    src_path       text,
    detail         text
);
CREATE INDEX code_relationships_src ON code_relationships (src_id);
CREATE INDEX code_relationships_dst ON code_relationships (dst_id);
CREATE INDEX code_relationships_repo_path ON code_relationships (repo, src_path);

CREATE TABLE code_chunks (
    id             text PRIMARY KEY,
    repo           text NOT NULL,
    path           text NOT NULL,
    chunk_type     text NOT NULL,
    symbol         text,
    kind           text,
    signature      text,
    header_chain   text,
    object_name    text,
    start_line     integer,
    end_line       integer,
    content        text NOT NULL,
    content_hash   text NOT NULL,
    embedding      vector(384),
    rank           real NOT NULL DEFAULT 0
);
CREATE INDEX code_chunks_repo_path ON code_chunks (repo, path);
CREATE INDEX code_chunks_embedding_hnsw ON code_chunks USING hnsw (embedding vector_cosine_ops);

CREATE TABLE jobs (
    id                bigserial PRIMARY KEY,
    type              text NOT NULL,
    executor_id       text NOT NULL,
    payload           jsonb NOT NULL DEFAULT '{}'::jsonb,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    priority          integer NOT NULL DEFAULT 0,
    attempts          integer NOT NULL DEFAULT 0,
    max_attempts      integer NOT NULL DEFAULT 3,
    lease_owner       text,
    lease_expires_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    result            jsonb,
    error             text,
    dedupe_key        text
);
CREATE INDEX jobs_claim ON jobs (executor_id, status, priority DESC, id) WHERE status = 'queued';
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_finished ON jobs (type, finished_at);
CREATE UNIQUE INDEX jobs_open_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');

CREATE TABLE quality_runs (
    id            bigserial PRIMARY KEY,
    gate          text NOT NULL DEFAULT 'q1',
    source        text NOT NULL DEFAULT 'db',
    score         real,
    threshold     real NOT NULL,
    passed        boolean NOT NULL,
    succeeded     integer NOT NULL DEFAULT 0,
    failed        integer NOT NULL DEFAULT 0,
    window_start  timestamptz,
    window_end    timestamptz,
    details       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gate_fixes (
    id              bigserial PRIMARY KEY,
    quality_run_id  bigint REFERENCES quality_runs (id),
    json_path       text,
    markdown_path   text,
    content         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE snapshots (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL DEFAULT 'nightly',
    q1          real,
    content     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    channel     text NOT NULL DEFAULT 'webhook',
    status      text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    error       text,
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
