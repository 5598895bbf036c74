-- The face, screening and document checks: files a check produces for reviewers (face chips),
-- the per-tenant register of document fingerprints (reuse across sessions), the screening
-- list sets loaded over time, and each screened session's query and hits (ongoing monitoring).

CREATE TABLE check_artifacts (
    session_id    TEXT NOT NULL REFERENCES sessions (id),
    round         BIGINT NOT NULL,
    check_name    TEXT NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    byte_len      BIGINT NOT NULL,
    data          BLOB,
    object_key    TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (session_id, round, check_name, name)
);

CREATE TABLE document_fingerprints (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    mrz_digest  TEXT,
    phash       BIGINT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
);

CREATE INDEX document_fingerprints_digest ON document_fingerprints (tenant_id, mrz_digest);

CREATE TABLE screening_list_sets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dir           TEXT NOT NULL,
    versions      TEXT NOT NULL,
    entities      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE screening_records (
    session_id     TEXT PRIMARY KEY REFERENCES sessions (id),
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    query          TEXT NOT NULL,
    hits           TEXT NOT NULL,
    list_versions  TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX screening_records_tenant ON screening_records (tenant_id);
