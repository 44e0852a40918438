-- key-vault (issue 8): provider API keys encrypted at rest (Fernet, master key from the
-- server environment only) and an audit trail of every access. The audit never holds a key.
CREATE TABLE IF NOT EXISTS vault_keys (
    provider    text PRIMARY KEY,
    ciphertext  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text
);

CREATE TABLE IF NOT EXISTS vault_audit (
    id           bigserial PRIMARY KEY,
    provider     text NOT NULL,
    action       text NOT NULL CHECK (action IN ('get', 'set')),
    actor        text NOT NULL,
    client_addr  text,
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'unknown_provider', 'error')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS vault_audit_provider_time ON vault_audit (provider, created_at);
