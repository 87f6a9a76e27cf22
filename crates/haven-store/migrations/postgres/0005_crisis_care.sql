-- Rescue and the first 48 hours: interventions, crisis-care episodes, the roster of aftercare
-- staff, the care log, safeguard checks, victim identification, and what partners offer.

-- Optimistic concurrency: a save names the version it was based on.
ALTER TABLE survivors ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Language codes a staff member speaks (e.g. 'km,vi'): a survivor who speaks only
-- Vietnamese needs Vietnamese-speaking staff on duty.
ALTER TABLE users ADD COLUMN languages TEXT NOT NULL DEFAULT '';

-- The fixed service taxonomy of haven-core's PartnerService.
CREATE TABLE partner_services (
    org_id   UUID NOT NULL REFERENCES organisations (id),
    service  TEXT NOT NULL,
    PRIMARY KEY (org_id, service)
);

-- A raid or rescue operation. No survivor detail lives here: investigators see this table.
CREATE TABLE interventions (
    id                 UUID PRIMARY KEY,
    owner_org          UUID NOT NULL REFERENCES organisations (id),
    occurred_at        TIMESTAMPTZ NOT NULL,
    area               TEXT NOT NULL,
    venue_name         TEXT NOT NULL,
    venue_type         TEXT NOT NULL CHECK (venue_type IN ('brothel', 'karaoke_bar', 'beer_garden', 'massage_parlour', 'rented_room', 'other')),
    police_unit        TEXT NOT NULL,
    lead_investigator  UUID REFERENCES users (id),
    persons_found      BIGINT NOT NULL CHECK (persons_found >= 0),
    victims_identified BIGINT NOT NULL CHECK (victims_identified >= 0),
    suspects_arrested  BIGINT NOT NULL CHECK (suspects_arrested >= 0),
    created_by         UUID REFERENCES users (id),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

CREATE INDEX interventions_when ON interventions (owner_org, occurred_at);

-- Aftercare staff on duty for an intervention, day and night.
CREATE TABLE roster_shifts (
    id               UUID PRIMARY KEY,
    intervention_id  UUID NOT NULL REFERENCES interventions (id),
    user_id          UUID NOT NULL REFERENCES users (id),
    starts_at        TIMESTAMPTZ NOT NULL,
    ends_at          TIMESTAMPTZ NOT NULL,
    created_by       UUID REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    cancelled_at     TIMESTAMPTZ,
    CHECK (ends_at > starts_at)
);

CREATE INDEX roster_shifts_intervention ON roster_shifts (intervention_id, starts_at);

-- One survivor's crisis care, from rescue until placement with a partner.
CREATE TABLE care_episodes (
    id                      UUID PRIMARY KEY,
    survivor_id             UUID NOT NULL REFERENCES survivors (id),
    intervention_id         UUID NOT NULL REFERENCES interventions (id),
    rescued_at              TIMESTAMPTZ NOT NULL,
    last_contact_at         TIMESTAMPTZ,
    staff_language_needed   TEXT,
    placed_at               TIMESTAMPTZ,
    placement_org           UUID REFERENCES organisations (id),
    placement_service       TEXT,
    placed_by               UUID REFERENCES users (id),
    created_at              TIMESTAMPTZ NOT NULL,
    CHECK ((placed_at IS NULL) = (placement_org IS NULL)),
    CHECK (placed_at IS NULL OR placed_at >= rescued_at)
);

-- A survivor is in at most one crisis-care episode at a time.
CREATE UNIQUE INDEX care_episodes_one_open ON care_episodes (survivor_id) WHERE placed_at IS NULL;
CREATE INDEX care_episodes_intervention ON care_episodes (intervention_id);
CREATE INDEX care_episodes_open ON care_episodes (rescued_at) WHERE placed_at IS NULL;

-- Contacts, meals, care packages, medical checks, interpreter sessions. Notes are sealed with
-- the survivor's data key.
CREATE TABLE care_log (
    id           UUID PRIMARY KEY,
    episode_id   UUID NOT NULL REFERENCES care_episodes (id),
    kind         TEXT NOT NULL CHECK (kind IN ('contact', 'meal', 'care_package', 'medical_check', 'interpreter_session')),
    at           TIMESTAMPTZ NOT NULL,
    items        TEXT NOT NULL DEFAULT '',
    note         BYTEA,
    recorded_by  UUID REFERENCES users (id),
    recorded_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX care_log_episode ON care_log (episode_id, at);

-- Safeguards confirmed (or reported breached) by staff.
CREATE TABLE safeguard_checks (
    id           UUID PRIMARY KEY,
    episode_id   UUID NOT NULL REFERENCES care_episodes (id),
    safeguard    TEXT NOT NULL CHECK (safeguard IN ('not_in_cell', 'no_suspect_contact', 'female_staff_present')),
    met          BOOLEAN NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    note         BYTEA,
    checked_by   UUID REFERENCES users (id)
);

CREATE INDEX safeguard_checks_episode ON safeguard_checks (episode_id, safeguard, at);

-- Victim identification screenings; each new screening is a new row (the history stays).
-- The indicators and reasons are sealed with the survivor's data key.
CREATE TABLE identifications (
    id            UUID PRIMARY KEY,
    survivor_id   UUID NOT NULL REFERENCES survivors (id),
    minor_status  TEXT NOT NULL CHECK (minor_status IN ('certain', 'probable', 'adult')),
    decision      TEXT NOT NULL CHECK (decision IN ('victim', 'not_victim', 'pending')),
    details       BYTEA NOT NULL,
    screened_by   UUID REFERENCES users (id),
    screened_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX identifications_survivor ON identifications (survivor_id, screened_at);
