-- Encryption at rest, retention and erasure: each session's data key, stored only wrapped
-- (AEAD) under a key-encryption key (KEK) from the configuration and destroyed when the
-- session is erased (crypto-shredding), and each tenant's retention period.

CREATE TABLE session_keys (
    session_id  TEXT PRIMARY KEY REFERENCES sessions (id),
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    kek_id      TEXT NOT NULL,
    wrapped     BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);

CREATE INDEX session_keys_kek ON session_keys (kek_id);

CREATE TABLE retention_policies (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id),
    days        BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX sessions_created ON sessions (created_at);
