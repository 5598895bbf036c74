-- The pipeline: applicant data, rounds (a resubmission starts a new round), the durable
-- job queue, check results with their versions, decisions with their rule-set versions,
-- versioned per-tenant rules, webhook endpoints, events, the delivery outbox and its log,
-- and object-store keys for images.

ALTER TABLE sessions ADD COLUMN applicant TEXT;
ALTER TABLE sessions ADD COLUMN round BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN requested_steps TEXT;
ALTER TABLE sessions ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE captures ADD COLUMN round BIGINT NOT NULL DEFAULT 0;
ALTER TABLE capture_images ADD COLUMN object_key TEXT;

CREATE INDEX sessions_open ON sessions (status, expires_at);
CREATE INDEX captures_payload ON captures (session_id, payload_sha256);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    session_id   TEXT NOT NULL REFERENCES sessions (id),
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    run_at       BIGINT NOT NULL,
    lease_until  BIGINT,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE check_results (
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    round          BIGINT NOT NULL,
    check_name     TEXT NOT NULL,
    check_version  TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    score          REAL,
    details        TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (session_id, round, check_name)
);

CREATE TABLE decisions (
    session_id        TEXT NOT NULL REFERENCES sessions (id),
    round             BIGINT NOT NULL,
    state             TEXT NOT NULL,
    trust_score       REAL NOT NULL,
    reasons           TEXT NOT NULL,
    requested_steps   TEXT NOT NULL,
    rule_set_version  BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (session_id, round)
);

CREATE TABLE rule_sets (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    version     BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE webhook_endpoints (
    tenant_id             TEXT PRIMARY KEY REFERENCES tenants (id),
    url                   TEXT NOT NULL,
    secret_enc            TEXT NOT NULL,
    previous_secret_enc   TEXT,
    previous_valid_until  BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    seq         BIGINT NOT NULL,
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (session_id, seq)
);

CREATE INDEX events_tenant ON events (tenant_id, created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id),
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    session_id       TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    give_up_at       BIGINT NOT NULL,
    lease_until      BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);

CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_session ON deliveries (session_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    delivery_id  TEXT NOT NULL REFERENCES deliveries (id),
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    status       BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
