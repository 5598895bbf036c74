-- Walking skeleton schema (PostgreSQL dialect of the SQLite migration of the same version).
-- BIGINT Unix-second timestamps, JSON kept as TEXT. Image bytes live in a BLOB column
-- for now; a later migration moves them to an object store.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    prefix      TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    key_sha256  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    status        TEXT NOT NULL,
    steps         TEXT NOT NULL,
    reference     TEXT,
    public_key    TEXT,
    key_id        TEXT,
    expires_at    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX sessions_tenant ON sessions (tenant_id, created_at);

CREATE TABLE nonces (
    nonce       TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE INDEX nonces_session ON nonces (session_id);

CREATE TABLE captures (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES sessions (id),
    step            TEXT NOT NULL,
    nonce           TEXT NOT NULL UNIQUE REFERENCES nonces (nonce),
    key_id          TEXT NOT NULL,
    manifest        TEXT NOT NULL,
    signature       TEXT NOT NULL,
    payload_sha256  TEXT NOT NULL,
    client_quality  TEXT NOT NULL,
    server_quality  TEXT NOT NULL,
    received_at     BIGINT NOT NULL
);

CREATE INDEX captures_session ON captures (session_id, received_at);

CREATE TABLE capture_images (
    capture_id    TEXT NOT NULL REFERENCES captures (id),
    position      BIGINT NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    byte_len      BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (capture_id, position)
);
