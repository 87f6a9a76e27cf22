-- The hash-chained audit log (see haven-core/src/audit.rs for the encoding).
-- Events are only ever appended; `audit_head` holds the last seq and hash, and is the row
-- every appender updates first (a row lock), which serialises appenders and lets
-- `haven audit verify` notice events removed from the end.

CREATE TABLE audit_events (
    seq          BIGINT PRIMARY KEY CHECK (seq >= 1),
    id           UUID NOT NULL UNIQUE,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity       TEXT NOT NULL,
    entity_id    TEXT,
    -- Field names only, never values, joined with ','.
    fields       TEXT NOT NULL,
    reason       TEXT,
    client_addr  TEXT,
    request_id   TEXT,
    prev_hash    BYTEA NOT NULL,
    hash         BYTEA NOT NULL
);

CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_entity ON audit_events (entity, entity_id, seq);

CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  BYTEA NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
