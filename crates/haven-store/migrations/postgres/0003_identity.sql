-- Identity hardening: TOTP second factor, recovery codes, login throttling, pending
-- two-step logins, and scoped API tokens.

-- One authenticator per account. The secret has its own column so encrypting it at rest
-- later changes one column. `confirmed_at` is NULL while enrolment awaits its first code.
-- `last_step` is the last 30-second step accepted, so a code cannot be replayed.
CREATE TABLE user_totp (
    user_id       UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret        TEXT NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Single-use recovery codes: only their SHA-256 is kept.
CREATE TABLE recovery_codes (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   BYTEA NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Failed sign-ins, shared by every instance. `account` is the username as typed
-- (lower-cased), whether or not such an account exists, so counting reveals nothing.
CREATE TABLE login_failures (
    id           UUID PRIMARY KEY,
    account      TEXT NOT NULL,
    client_addr  TEXT,
    at           TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- A password that was right, waiting for the second factor (HTML login, second step).
-- Only the SHA-256 of its token is stored; it lives for minutes.
CREATE TABLE pending_logins (
    id           UUID PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

-- What a session may do: 'full', or 'read' (GET requests only).
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read'));
