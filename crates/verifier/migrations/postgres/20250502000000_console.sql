-- The review console: reviewer accounts (tenant-scoped, Argon2id password hashes), their
-- browser sessions (only the SHA-256 of the cookie token is stored), every reviewer action
-- on a case (with the reviewer's note, which stays out of the audit trail and webhooks),
-- and per-tenant console settings (four-eyes approval).

CREATE TABLE reviewers (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);

CREATE INDEX reviewers_tenant ON reviewers (tenant_id);

CREATE TABLE reviewer_sessions (
    token_sha256  TEXT PRIMARY KEY,
    reviewer_id   TEXT NOT NULL REFERENCES reviewers (id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

CREATE INDEX reviewer_sessions_reviewer ON reviewer_sessions (reviewer_id);

CREATE TABLE review_actions (
    session_id   TEXT NOT NULL REFERENCES sessions (id),
    round        BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    reviewer_id  TEXT NOT NULL REFERENCES reviewers (id),
    action       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (session_id, round, seq)
);

CREATE TABLE console_settings (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id),
    four_eyes   BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
