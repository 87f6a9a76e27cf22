-- Rescue and the first 48 hours: interventions, crisis-care episodes, the roster of aftercare
-- staff, the care log, safeguard checks, victim identification, and what partners offer.

-- Optimistic concurrency: a save names the version it was based on.
ALTER TABLE survivors ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Language codes a staff member speaks (e.g. 'km,vi'): a survivor who speaks only
-- Vietnamese needs Vietnamese-speaking staff on duty.
ALTER TABLE users ADD COLUMN languages TEXT NOT NULL DEFAULT '';

-- The fixed service taxonomy of haven-core's PartnerService.
CREATE TABLE partner_services (
    org_id   BLOB NOT NULL REFERENCES organisations (id),
    service  TEXT NOT NULL,
    PRIMARY KEY (org_id, service)
) STRICT;

-- A raid or rescue operation. No survivor detail lives here: investigators see this table.
CREATE TABLE interventions (
    id                 BLOB PRIMARY KEY NOT NULL,
    owner_org          BLOB NOT NULL REFERENCES organisations (id),
    occurred_at        TEXT NOT NULL,
    area               TEXT NOT NULL,
    venue_name         TEXT NOT NULL,
    venue_type         TEXT NOT NULL CHECK (venue_type IN ('brothel', 'karaoke_bar', 'beer_garden', 'massage_parlour', 'rented_room', 'other')),
    police_unit        TEXT NOT NULL,
    lead_investigator  BLOB REFERENCES users (id),
    persons_found      INTEGER NOT NULL CHECK (persons_found >= 0),
    victims_identified INTEGER NOT NULL CHECK (victims_identified >= 0),
    suspects_arrested  INTEGER NOT NULL CHECK (suspects_arrested >= 0),
    created_by         BLOB REFERENCES users (id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;

CREATE INDEX interventions_when ON interventions (owner_org, occurred_at);

-- Aftercare staff on duty for an intervention, day and night.
CREATE TABLE roster_shifts (
    id               BLOB PRIMARY KEY NOT NULL,
    intervention_id  BLOB NOT NULL REFERENCES interventions (id),
    user_id          BLOB NOT NULL REFERENCES users (id),
    starts_at        TEXT NOT NULL,
    ends_at          TEXT NOT NULL,
    created_by       BLOB REFERENCES users (id),
    created_at       TEXT NOT NULL,
    cancelled_at     TEXT,
    CHECK (ends_at > starts_at)
) STRICT;

CREATE INDEX roster_shifts_intervention ON roster_shifts (intervention_id, starts_at);

-- One survivor's crisis care, from rescue until placement with a partner.
CREATE TABLE care_episodes (
    id                      BLOB PRIMARY KEY NOT NULL,
    survivor_id             BLOB NOT NULL REFERENCES survivors (id),
    intervention_id         BLOB NOT NULL REFERENCES interventions (id),
    rescued_at              TEXT NOT NULL,
    last_contact_at         TEXT,
    staff_language_needed   TEXT,
    placed_at               TEXT,
    placement_org           BLOB REFERENCES organisations (id),
    placement_service       TEXT,
    placed_by               BLOB REFERENCES users (id),
    created_at              TEXT NOT NULL,
    CHECK ((placed_at IS NULL) = (placement_org IS NULL)),
    CHECK (placed_at IS NULL OR placed_at >= rescued_at)
) STRICT;

-- A survivor is in at most one crisis-care episode at a time.
CREATE UNIQUE INDEX care_episodes_one_open ON care_episodes (survivor_id) WHERE placed_at IS NULL;
CREATE INDEX care_episodes_intervention ON care_episodes (intervention_id);
CREATE INDEX care_episodes_open ON care_episodes (rescued_at) WHERE placed_at IS NULL;

-- Contacts, meals, care packages, medical checks, interpreter sessions. Notes are sealed with
-- the survivor's data key.
CREATE TABLE care_log (
    id           BLOB PRIMARY KEY NOT NULL,
    episode_id   BLOB NOT NULL REFERENCES care_episodes (id),
    kind         TEXT NOT NULL CHECK (kind IN ('contact', 'meal', 'care_package', 'medical_check', 'interpreter_session')),
    at           TEXT NOT NULL,
    items        TEXT NOT NULL DEFAULT '',
    note         BLOB,
    recorded_by  BLOB REFERENCES users (id),
    recorded_at  TEXT NOT NULL
) STRICT;

CREATE INDEX care_log_episode ON care_log (episode_id, at);

-- Safeguards confirmed (or reported breached) by staff.
CREATE TABLE safeguard_checks (
    id           BLOB PRIMARY KEY NOT NULL,
    episode_id   BLOB NOT NULL REFERENCES care_episodes (id),
    safeguard    TEXT NOT NULL CHECK (safeguard IN ('not_in_cell', 'no_suspect_contact', 'female_staff_present')),
    met          INTEGER NOT NULL CHECK (met IN (0, 1)),
    at           TEXT NOT NULL,
    note         BLOB,
    checked_by   BLOB REFERENCES users (id)
) STRICT;

CREATE INDEX safeguard_checks_episode ON safeguard_checks (episode_id, safeguard, at);

-- Victim identification screenings; each new screening is a new row (the history stays).
-- The indicators and reasons are sealed with the survivor's data key.
CREATE TABLE identifications (
    id            BLOB PRIMARY KEY NOT NULL,
    survivor_id   BLOB NOT NULL REFERENCES survivors (id),
    minor_status  TEXT NOT NULL CHECK (minor_status IN ('certain', 'probable', 'adult')),
    decision      TEXT NOT NULL CHECK (decision IN ('victim', 'not_victim', 'pending')),
    details       BLOB NOT NULL,
    screened_by   BLOB REFERENCES users (id),
    screened_at   TEXT NOT NULL
) STRICT;

CREATE INDEX identifications_survivor ON identifications (survivor_id, screened_at);
