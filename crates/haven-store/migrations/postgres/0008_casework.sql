-- Long-term case management: the versioned individual plan, services delivered, follow-ups
-- and their schedule, risk assessments, incidents, case closure and case notes.
-- Everything a survivor said or that describes her is sealed with her data key; what stays in
-- clear (areas, dates, kinds, levels) is what lists and the policy need to work.

-- One row per version of her plan; a review or an edit adds a version, none is changed.
CREATE TABLE case_plans (
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    version      BIGINT NOT NULL CHECK (version >= 1),
    started_on   DATE NOT NULL,
    is_review    BOOLEAN NOT NULL DEFAULT FALSE,
    created_by   UUID NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (survivor_id, version)
);

-- The areas of one version. Needs, goals and her own words are one sealed JSON document.
-- responsible_org is set when a partner owns the area through a referral: that partner sees
-- this area and no other.
CREATE TABLE case_plan_areas (
    survivor_id       UUID NOT NULL,
    version           BIGINT NOT NULL,
    area              TEXT NOT NULL CHECK (area IN ('treatment', 'medical', 'psychosocial', 'placement', 'economic', 'legal_support', 'transition')),
    status            TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'met', 'not_needed')),
    responsible_user  UUID REFERENCES users (id),
    responsible_org   UUID REFERENCES organisations (id),
    referral_id       UUID REFERENCES referrals (id),
    sealed            BYTEA NOT NULL,
    PRIMARY KEY (survivor_id, version, area),
    FOREIGN KEY (survivor_id, version) REFERENCES case_plans (survivor_id, version),
    CHECK ((responsible_org IS NULL) = (referral_id IS NULL))
);

-- Services delivered. The medical result is sealed apart from the outcome, so that no list
-- query ever needs to touch it.
CREATE TABLE care_services (
    id              UUID PRIMARY KEY,
    survivor_id     UUID NOT NULL REFERENCES survivors (id),
    kind            TEXT NOT NULL,
    area            TEXT NOT NULL,
    delivered_on    DATE NOT NULL,
    provider_user   UUID REFERENCES users (id),
    provider_org    UUID REFERENCES organisations (id),
    outcome         BYTEA NOT NULL,
    medical_result  BYTEA,
    recorded_by     UUID NOT NULL REFERENCES users (id),
    recorded_at     TIMESTAMPTZ NOT NULL
);

CREATE INDEX care_services_survivor ON care_services (survivor_id, delivered_on);

-- Scheduled contacts, plan reviews and post-closure check-ins. One is open until it is done
-- or cancelled (closing a case cancels the contacts and reviews still due). The caseworker who owns one is
-- whoever is assigned to her now, so a reassignment moves her follow-ups with her.
CREATE TABLE follow_ups (
    id           UUID PRIMARY KEY,
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    kind         TEXT NOT NULL CHECK (kind IN ('contact', 'review', 'post_closure')),
    due_on       DATE NOT NULL,
    done_on      DATE,
    done_by      UUID REFERENCES users (id),
    note         BYTEA,
    cancelled_at TIMESTAMPTZ,
    created_by   UUID REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    CHECK ((done_on IS NULL) = (done_by IS NULL))
);

CREATE INDEX follow_ups_survivor ON follow_ups (survivor_id, due_on);
CREATE INDEX follow_ups_open_due ON follow_ups (due_on, survivor_id) WHERE done_on IS NULL AND cancelled_at IS NULL;

-- How often each organisation follows up, set by its managers (defaults in the code).
CREATE TABLE follow_up_schedules (
    org_id            UUID PRIMARY KEY REFERENCES organisations (id),
    first_month_days  INTEGER NOT NULL CHECK (first_month_days BETWEEN 1 AND 365),
    first_year_days   INTEGER NOT NULL CHECK (first_year_days BETWEEN 1 AND 365),
    after_days        INTEGER NOT NULL CHECK (after_days BETWEEN 1 AND 365),
    updated_at        TIMESTAMPTZ NOT NULL,
    updated_by        UUID NOT NULL REFERENCES users (id)
);

-- Risk assessments: the level in clear (it drives how often she is seen), the factors and the
-- assessor's notes sealed.
CREATE TABLE risk_assessments (
    id           UUID PRIMARY KEY,
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    assessed_on  DATE NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high')),
    sealed       BYTEA NOT NULL,
    assessed_by  UUID NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX risk_assessments_survivor ON risk_assessments (survivor_id, assessed_on, created_at);

-- Incidents (threat, running away, suspected re-trafficking): kind and account sealed.
CREATE TABLE incidents (
    id           UUID PRIMARY KEY,
    survivor_id  UUID NOT NULL REFERENCES survivors (id),
    occurred_on  DATE NOT NULL,
    sealed       BYTEA NOT NULL,
    reported_by  UUID NOT NULL REFERENCES users (id),
    reported_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX incidents_survivor ON incidents (survivor_id, occurred_on);

-- Case closures. Re-opening stamps the closure row; nothing is deleted, so her whole history
-- stays. At most one closure is in force.
CREATE TABLE case_closures (
    id                UUID PRIMARY KEY,
    survivor_id       UUID NOT NULL REFERENCES survivors (id),
    closed_on         DATE NOT NULL,
    safe_living       BOOLEAN NOT NULL CHECK (safe_living),
    income_or_school  BOOLEAN NOT NULL CHECK (income_or_school),
    final_review      BOOLEAN NOT NULL CHECK (final_review),
    sealed            BYTEA NOT NULL,
    closed_by         UUID NOT NULL REFERENCES users (id),
    closed_at         TIMESTAMPTZ NOT NULL,
    reopened_at       TIMESTAMPTZ,
    reopened_by       UUID REFERENCES users (id),
    reopen_reason     BYTEA
);

CREATE UNIQUE INDEX case_closures_in_force ON case_closures (survivor_id) WHERE reopened_at IS NULL;

-- Case notes: sanitised rich text, sealed; confidential ones only for her caseworkers.
CREATE TABLE case_notes (
    id            UUID PRIMARY KEY,
    survivor_id   UUID NOT NULL REFERENCES survivors (id),
    area          TEXT,
    confidential  BOOLEAN NOT NULL DEFAULT FALSE,
    body          BYTEA NOT NULL,
    author        UUID NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX case_notes_survivor ON case_notes (survivor_id, created_at);

-- Caseloads are read by caseworker.
CREATE INDEX survivor_assignments_user ON survivor_assignments (user_id, survivor_id);

-- An incident alert names the survivor's record (its reference), never what happened.
ALTER TABLE notifications ADD COLUMN survivor_id UUID REFERENCES survivors (id);
