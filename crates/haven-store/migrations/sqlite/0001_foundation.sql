-- Foundation: organisations, staff accounts and roles, login sessions, settings.
-- IDs are UUIDv7 stored as 16-byte blobs; timestamps are RFC 3339 text in UTC.

CREATE TABLE organisations (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('own', 'partner')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- Exactly one organisation runs the instance.
CREATE UNIQUE INDEX organisations_one_own ON organisations (kind) WHERE kind = 'own';

CREATE TABLE users (
    id             BLOB PRIMARY KEY NOT NULL,
    org_id         BLOB NOT NULL REFERENCES organisations (id),
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    locale         TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'km', 'vi')),
    disabled_at    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;

CREATE INDEX users_org ON users (org_id);

CREATE TABLE user_roles (
    user_id  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('admin', 'investigator', 'aftercare', 'legal', 'manager', 'partner', 'auditor')),
    PRIMARY KEY (user_id, role)
) STRICT;

-- The token itself is never stored: only its SHA-256, so a copy of the database cannot be
-- used to take over a session.
CREATE TABLE sessions (
    id            BLOB PRIMARY KEY NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('browser', 'api')),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    client_addr   TEXT,
    user_agent    TEXT
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
