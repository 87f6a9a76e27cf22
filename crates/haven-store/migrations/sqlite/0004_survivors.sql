-- Survivor records, encrypted field by field (see haven-store/src/crypto).

-- Key check values of the keys that have encrypted this database: a wrong key file is
-- detected at start-up, never by garbling data.
CREATE TABLE key_registry (
    id           BLOB PRIMARY KEY NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('wrap', 'index')),
    check_value  BLOB NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE survivors (
    id          BLOB PRIMARY KEY NOT NULL,
    reference   TEXT NOT NULL UNIQUE,
    owner_org   BLOB NOT NULL REFERENCES organisations (id),
    created_by  BLOB REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    erased_at   TEXT
) STRICT;

-- One data key per survivor, stored only wrapped by a master key. Erasing a survivor sets
-- wrapped_key to NULL: her fields stay as unreadable ciphertext.
CREATE TABLE survivor_keys (
    survivor_id    BLOB PRIMARY KEY NOT NULL REFERENCES survivors (id),
    master_key_id  BLOB NOT NULL,
    wrapped_key    BLOB,
    destroyed_at   TEXT
) STRICT;

CREATE INDEX survivor_keys_master ON survivor_keys (master_key_id);

CREATE TABLE survivor_fields (
    survivor_id  BLOB NOT NULL REFERENCES survivors (id),
    field        TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   BLOB,
    PRIMARY KEY (survivor_id, field)
) STRICT;

-- Earlier values: records are revised as her story emerges, never overwritten.
CREATE TABLE survivor_field_history (
    id           BLOB PRIMARY KEY NOT NULL,
    survivor_id  BLOB NOT NULL REFERENCES survivors (id),
    field        TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    valid_from   TEXT NOT NULL,
    replaced_at  TEXT NOT NULL,
    replaced_by  BLOB
) STRICT;

CREATE INDEX survivor_field_history_field ON survivor_field_history (survivor_id, field);

-- Blind indexes (keyed hashes of normalised names and phone numbers) for exact look-ups.
CREATE TABLE survivor_lookup (
    survivor_id  BLOB NOT NULL REFERENCES survivors (id),
    kind         TEXT NOT NULL CHECK (kind IN ('name', 'phone')),
    digest       BLOB NOT NULL,
    PRIMARY KEY (survivor_id, kind, digest)
) STRICT;

CREATE INDEX survivor_lookup_digest ON survivor_lookup (kind, digest);

CREATE TABLE survivor_assignments (
    survivor_id  BLOB NOT NULL REFERENCES survivors (id),
    user_id      BLOB NOT NULL REFERENCES users (id),
    assigned_at  TEXT NOT NULL,
    PRIMARY KEY (survivor_id, user_id)
) STRICT;

-- What she consented to share, with whom: a partner organisation, or the legal team.
CREATE TABLE survivor_shares (
    id            BLOB PRIMARY KEY NOT NULL,
    survivor_id   BLOB NOT NULL REFERENCES survivors (id),
    audience      TEXT NOT NULL CHECK (audience IN ('partner', 'legal')),
    org_id        BLOB REFERENCES organisations (id),
    classes       TEXT NOT NULL,
    granted_by    BLOB,
    granted_at    TEXT NOT NULL,
    withdrawn_at  TEXT,
    CHECK ((audience = 'partner') = (org_id IS NOT NULL))
) STRICT;

CREATE INDEX survivor_shares_survivor ON survivor_shares (survivor_id);

CREATE TABLE break_glass (
    id           BLOB PRIMARY KEY NOT NULL,
    survivor_id  BLOB NOT NULL REFERENCES survivors (id),
    user_id      BLOB NOT NULL REFERENCES users (id),
    reason       TEXT NOT NULL,
    granted_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;

CREATE INDEX break_glass_user ON break_glass (user_id, survivor_id);
