-- Foundation: organisations, staff accounts and roles, login sessions, settings.
-- IDs are UUIDv7; timestamps are timestamptz in UTC.

CREATE TABLE organisations (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('own', 'partner')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Exactly one organisation runs the instance.
CREATE UNIQUE INDEX organisations_one_own ON organisations (kind) WHERE kind = 'own';

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organisations (id),
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    locale         TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'km', 'vi')),
    disabled_at    TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE INDEX users_org ON users (org_id);

CREATE TABLE user_roles (
    user_id  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('admin', 'investigator', 'aftercare', 'legal', 'manager', 'partner', 'auditor')),
    PRIMARY KEY (user_id, role)
);

-- The token itself is never stored: only its SHA-256, so a copy of the database cannot be
-- used to take over a session.
CREATE TABLE sessions (
    id            UUID PRIMARY KEY,
    token_hash    BYTEA NOT NULL UNIQUE,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('browser', 'api')),
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    client_addr   TEXT,
    user_agent    TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
