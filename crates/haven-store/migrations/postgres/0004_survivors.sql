-- Survivor records, encrypted field by field (see haven-store/src/crypto).

-- Key check values of the keys that have encrypted this database: a wrong key file is
-- detected at start-up, never by garbling data.
CREATE TABLE key_registry (
    id           UUID PRIMARY KEY,
    purpose      TEXT NOT NULL CHECK (purpose IN ('wrap', 'index')),
    check_value  BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE survivors (
    id          UUID PRIMARY KEY,
    reference   TEXT NOT NULL UNIQUE,
    owner_org   UUID NOT NULL REFERENCES organisations (id),
    created_by  UUID REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    erased_at   TIMESTAMPTZ
);

-- One data key per survivor, stored only wrapped by a master key. Erasing a survivor sets
-- wrapped_key to NULL: her fields stay as unreadable ciphertext.
CREATE TABLE survivor_keys (
    survivor_id    UUID PRIMARY KEY REFERENCES survivors (id),
    master_key_id  UUID NOT NULL,
    wrapped_key    BYTEA,
    destroyed_at   TIMESTAMPTZ
);

CREATE INDEX survivor_keys_master ON survivor_keys (master_key_id);

CREATE TABLE survivor_fields (
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    field        TEXT NOT NULL,
    sealed       BYTEA NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   UUID,
    PRIMARY KEY (survivor_id, field)
);

-- Earlier values: records are revised as her story emerges, never overwritten.
CREATE TABLE survivor_field_history (
    id           UUID PRIMARY KEY,
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    field        TEXT NOT NULL,
    sealed       BYTEA NOT NULL,
    valid_from   TIMESTAMPTZ NOT NULL,
    replaced_at  TIMESTAMPTZ NOT NULL,
    replaced_by  UUID
);

CREATE INDEX survivor_field_history_field ON survivor_field_history (survivor_id, field);

-- Blind indexes (keyed hashes of normalised names and phone numbers) for exact look-ups.
CREATE TABLE survivor_lookup (
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    kind         TEXT NOT NULL CHECK (kind IN ('name', 'phone')),
    digest       BYTEA NOT NULL,
    PRIMARY KEY (survivor_id, kind, digest)
);

CREATE INDEX survivor_lookup_digest ON survivor_lookup (kind, digest);

CREATE TABLE survivor_assignments (
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    user_id      UUID NOT NULL REFERENCES users (id),
    assigned_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (survivor_id, user_id)
);

-- What she consented to share, with whom: a partner organisation, or the legal team.
CREATE TABLE survivor_shares (
    id            UUID PRIMARY KEY,
    survivor_id   UUID NOT NULL REFERENCES survivors (id),
    audience      TEXT NOT NULL CHECK (audience IN ('partner', 'legal')),
    org_id        UUID REFERENCES organisations (id),
    classes       TEXT NOT NULL,
    granted_by    UUID,
    granted_at    TIMESTAMPTZ NOT NULL,
    withdrawn_at  TIMESTAMPTZ,
    CHECK ((audience = 'partner') = (org_id IS NOT NULL))
);

CREATE INDEX survivor_shares_survivor ON survivor_shares (survivor_id);

CREATE TABLE break_glass (
    id           UUID PRIMARY KEY,
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    user_id      UUID NOT NULL REFERENCES users (id),
    reason       TEXT NOT NULL,
    granted_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX break_glass_user ON break_glass (user_id, survivor_id);
