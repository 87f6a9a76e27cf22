-- Identity hardening: TOTP second factor, recovery codes, login throttling, pending
-- two-step logins, and scoped API tokens.

-- One authenticator per account. The secret has its own column so encrypting it at rest
-- later changes one column. `confirmed_at` is NULL while enrolment awaits its first code.
-- `last_step` is the last 30-second step accepted, so a code cannot be replayed.
CREATE TABLE user_totp (
    user_id       BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret        TEXT NOT NULL,
    confirmed_at  TEXT,
    last_step     INTEGER,
    created_at    TEXT NOT NULL
) STRICT;

-- Single-use recovery codes: only their SHA-256 is kept.
CREATE TABLE recovery_codes (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   BLOB NOT NULL,
    used_at     TEXT,
    created_at  TEXT NOT NULL
) STRICT;

CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Failed sign-ins, shared by every instance. `account` is the username as typed
-- (lower-cased), whether or not such an account exists, so counting reveals nothing.
CREATE TABLE login_failures (
    id           BLOB PRIMARY KEY NOT NULL,
    account      TEXT NOT NULL,
    client_addr  TEXT,
    at           TEXT NOT NULL
) STRICT;

CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- A password that was right, waiting for the second factor (HTML login, second step).
-- Only the SHA-256 of its token is stored; it lives for minutes.
CREATE TABLE pending_logins (
    id           BLOB PRIMARY KEY NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;

-- What a session may do: 'full', or 'read' (GET requests only).
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read'));
