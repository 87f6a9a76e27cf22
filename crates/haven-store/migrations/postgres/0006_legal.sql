-- Legal casework: prosecutions, suspects, survivors' informed choices, hearings, testimony
-- preparation, deadlines, outcomes, and the evidence locker with its chain of custody.
-- Free text about people (suspects' names, notes of her choices and sessions) is sealed with
-- the case's own data key; evidence files are encrypted on disk with a key per file.

CREATE TABLE legal_cases (
    id               UUID PRIMARY KEY,
    reference        TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    owner_org        UUID NOT NULL REFERENCES organisations (id),
    -- The intervention (rescue operation) the case came from; no foreign key on purpose.
    intervention_id  UUID,
    court            TEXT NOT NULL DEFAULT '',
    prosecutor       TEXT NOT NULL DEFAULT '',
    judge            TEXT NOT NULL DEFAULT '',
    master_key_id    UUID NOT NULL,
    wrapped_key      BYTEA NOT NULL,
    created_by       UUID REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_cases_master ON legal_cases (master_key_id);

-- The lawyers working a case (reminders go to them).
CREATE TABLE legal_case_lawyers (
    case_id  UUID NOT NULL REFERENCES legal_cases (id),
    user_id  UUID NOT NULL REFERENCES users (id),
    PRIMARY KEY (case_id, user_id)
);

CREATE TABLE legal_suspects (
    id            UUID PRIMARY KEY,
    case_id       UUID NOT NULL REFERENCES legal_cases (id),
    sealed_name   BYTEA NOT NULL,
    sealed_aliases BYTEA NOT NULL,
    role          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_suspects_case ON legal_suspects (case_id);

CREATE TABLE legal_charges (
    id          UUID PRIMARY KEY,
    case_id     UUID NOT NULL REFERENCES legal_cases (id),
    suspect_id  UUID REFERENCES legal_suspects (id),
    article     TEXT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_charges_case ON legal_charges (case_id);

CREATE TABLE legal_case_survivors (
    case_id      UUID NOT NULL REFERENCES legal_cases (id),
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    capacity     TEXT NOT NULL CHECK (capacity IN ('complainant', 'witness')),
    added_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, survivor_id)
);

CREATE INDEX legal_case_survivors_survivor ON legal_case_survivors (survivor_id);

-- Her informed decisions, newest last; never updated (the history is the record).
CREATE TABLE legal_decisions (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL REFERENCES legal_cases (id),
    survivor_id    UUID NOT NULL REFERENCES survivors (id),
    decision       TEXT NOT NULL CHECK (decision IN ('takes_part', 'undecided', 'withdrawn')),
    language       TEXT NOT NULL,
    sealed_detail  BYTEA NOT NULL,
    decided_at     TIMESTAMPTZ NOT NULL,
    recorded_by    UUID REFERENCES users (id)
);

CREATE INDEX legal_decisions_case ON legal_decisions (case_id, survivor_id, decided_at);

CREATE TABLE legal_stages (
    id           UUID PRIMARY KEY,
    case_id      UUID NOT NULL REFERENCES legal_cases (id),
    stage        TEXT NOT NULL,
    occurred_on  DATE NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    recorded_by  UUID REFERENCES users (id),
    recorded_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_stages_case ON legal_stages (case_id);
CREATE INDEX legal_stages_date ON legal_stages (occurred_on);

CREATE TABLE legal_hearings (
    id          UUID PRIMARY KEY,
    case_id     UUID NOT NULL REFERENCES legal_cases (id),
    stage       TEXT NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    court       TEXT NOT NULL,
    room        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_hearings_time ON legal_hearings (starts_at);
CREATE INDEX legal_hearings_case ON legal_hearings (case_id);

-- Who goes with her to a hearing, how she gets there, and a waiting room apart.
CREATE TABLE legal_accompaniment (
    hearing_id             UUID NOT NULL REFERENCES legal_hearings (id),
    survivor_id            UUID NOT NULL REFERENCES survivors (id),
    companions             TEXT NOT NULL,
    transport              TEXT NOT NULL,
    separate_waiting_room  BOOLEAN NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (hearing_id, survivor_id)
);

-- Testimony preparation sessions and court visits.
CREATE TABLE legal_sessions (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL REFERENCES legal_cases (id),
    survivor_id    UUID NOT NULL REFERENCES survivors (id),
    kind           TEXT NOT NULL CHECK (kind IN ('preparation', 'court_visit')),
    held_at        TIMESTAMPTZ NOT NULL,
    staff          TEXT NOT NULL,
    sealed_covered BYTEA NOT NULL,
    recorded_by    UUID REFERENCES users (id)
);

CREATE INDEX legal_sessions_case ON legal_sessions (case_id);

CREATE TABLE legal_deadlines (
    id          UUID PRIMARY KEY,
    case_id     UUID NOT NULL REFERENCES legal_cases (id),
    title       TEXT NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_deadlines_case ON legal_deadlines (case_id);
CREATE INDEX legal_deadlines_due ON legal_deadlines (due_at);

CREATE TABLE legal_outcomes (
    id                     UUID PRIMARY KEY,
    case_id                UUID NOT NULL REFERENCES legal_cases (id),
    suspect_id             UUID NOT NULL REFERENCES legal_suspects (id),
    result                 TEXT NOT NULL CHECK (result IN ('convicted', 'acquitted')),
    sentence_months        BIGINT,
    compensation_ordered   BIGINT NOT NULL DEFAULT 0,
    compensation_paid      BIGINT NOT NULL DEFAULT 0,
    decided_on             DATE NOT NULL,
    recorded_at            TIMESTAMPTZ NOT NULL
);

CREATE INDEX legal_outcomes_case ON legal_outcomes (case_id);

-- Evidence: files (encrypted on disk under DATA_DIR/evidence, one data key per file, wrapped
-- by the master key) and physical items. sha256 is of the original file, taken on upload.
CREATE TABLE evidence (
    id               UUID PRIMARY KEY,
    case_id          UUID NOT NULL REFERENCES legal_cases (id),
    kind             TEXT NOT NULL CHECK (kind IN ('photo', 'video', 'audio', 'document', 'chat_export', 'physical')),
    category         TEXT NOT NULL CHECK (category IN ('general', 'medical_report', 'age_evidence', 'statement')),
    survivor_id      UUID REFERENCES survivors (id),
    signed           BOOLEAN NOT NULL DEFAULT FALSE,
    title            TEXT NOT NULL,
    stage            TEXT,
    collected_by     TEXT NOT NULL,
    collected_at     TIMESTAMPTZ NOT NULL,
    collected_where  TEXT NOT NULL,
    collected_how    TEXT NOT NULL,
    file_name        TEXT,
    media_type       TEXT,
    size_bytes       BIGINT,
    sha256           BYTEA,
    master_key_id    UUID,
    wrapped_key      BYTEA,
    created_by       UUID REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'physical') = (sha256 IS NULL))
);

CREATE INDEX evidence_case ON evidence (case_id);
CREATE INDEX evidence_master ON evidence (master_key_id);

-- Chain of custody: appended, never edited.
CREATE TABLE evidence_custody (
    id           UUID PRIMARY KEY,
    evidence_id  UUID NOT NULL REFERENCES evidence (id),
    seq          BIGINT NOT NULL,
    from_user    UUID REFERENCES users (id),
    to_user      UUID NOT NULL REFERENCES users (id),
    moved_at     TIMESTAMPTZ NOT NULL,
    reason       TEXT NOT NULL,
    recorded_by  UUID REFERENCES users (id),
    UNIQUE (evidence_id, seq)
);

CREATE FUNCTION evidence_custody_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the chain of custody is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER evidence_custody_no_change BEFORE UPDATE OR DELETE ON evidence_custody
FOR EACH ROW EXECUTE FUNCTION evidence_custody_append_only();
