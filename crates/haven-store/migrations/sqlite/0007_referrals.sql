-- Partner network and referrals: partner profiles, her informed consent (built on
-- survivor_shares), referrals and their history, services delivered, in-app notifications.

-- What a partner offers beyond its services: who it accepts, languages, regions, beds.
-- Occupancy is kept by the partner's own staff, and moved by admissions and discharges.
CREATE TABLE partner_profiles (
    org_id         BLOB PRIMARY KEY NOT NULL REFERENCES organisations (id),
    min_age        INTEGER CHECK (min_age IS NULL OR min_age BETWEEN 0 AND 120),
    max_age        INTEGER CHECK (max_age IS NULL OR max_age BETWEEN 0 AND 120),
    sexes          TEXT NOT NULL DEFAULT '',
    languages      TEXT NOT NULL DEFAULT '',
    regions        TEXT NOT NULL DEFAULT '',
    beds           INTEGER NOT NULL DEFAULT 0 CHECK (beds >= 0),
    occupancy      INTEGER NOT NULL DEFAULT 0 CHECK (occupancy >= 0 AND occupancy <= beds),
    contact_name   TEXT NOT NULL DEFAULT '',
    contact_phone  TEXT NOT NULL DEFAULT '',
    contact_email  TEXT NOT NULL DEFAULT '',
    agreement      TEXT NOT NULL DEFAULT 'active' CHECK (agreement IN ('active', 'paused', 'ended')),
    updated_at     TEXT NOT NULL,
    updated_by     BLOB REFERENCES users (id)
) STRICT;

-- Her informed consent to share kinds of information with one partner, for one purpose.
-- The share row it created drives the access policy; withdrawing both ends access at once.
-- The co-signer's name is sealed with her data key.
CREATE TABLE referral_consents (
    id              BLOB PRIMARY KEY NOT NULL,
    survivor_id     BLOB NOT NULL REFERENCES survivors (id),
    org_id          BLOB NOT NULL REFERENCES organisations (id),
    share_id        BLOB NOT NULL UNIQUE REFERENCES survivor_shares (id),
    classes         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    explained_by    BLOB NOT NULL REFERENCES users (id),
    language        TEXT NOT NULL,
    cosigner_role   TEXT CHECK (cosigner_role IS NULL OR cosigner_role IN ('guardian', 'social_affairs_officer')),
    cosigner_name   BLOB,
    given_at        TEXT NOT NULL,
    withdrawn_at    TEXT,
    withdrawn_by    BLOB REFERENCES users (id)
) STRICT;

CREATE INDEX referral_consents_survivor ON referral_consents (survivor_id, org_id);

CREATE TABLE referrals (
    id                 BLOB PRIMARY KEY NOT NULL,
    survivor_id        BLOB NOT NULL REFERENCES survivors (id),
    org_id             BLOB NOT NULL REFERENCES organisations (id),
    need               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'admitted', 'discharged', 'withdrawn')),
    consent_id         BLOB REFERENCES referral_consents (id),
    age_band           TEXT NOT NULL,
    holds_bed          INTEGER NOT NULL DEFAULT 0 CHECK (holds_bed IN (0, 1)),
    decline_reason     TEXT,
    withdraw_reason    TEXT,
    discharge_outcome  TEXT,
    created_by         BLOB NOT NULL REFERENCES users (id),
    created_at         TEXT NOT NULL,
    sent_at            TEXT,
    decided_at         TEXT,
    admitted_at        TEXT,
    discharged_at      TEXT,
    updated_at         TEXT NOT NULL
) STRICT;

CREATE INDEX referrals_org ON referrals (org_id, status, updated_at);
CREATE INDEX referrals_survivor ON referrals (survivor_id, created_at);
-- She lives in one place at a time: at most one admitted placement.
CREATE UNIQUE INDEX referrals_one_admitted ON referrals (survivor_id) WHERE status = 'admitted' AND need = 'placement';

-- Every step of every referral, in order: the continuous history of where she has been.
CREATE TABLE referral_events (
    id           BLOB PRIMARY KEY NOT NULL,
    referral_id  BLOB NOT NULL REFERENCES referrals (id),
    status       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL,
    by_user      BLOB REFERENCES users (id)
) STRICT;

CREATE INDEX referral_events_referral ON referral_events (referral_id, at);

-- Services a partner delivered on a referral.
CREATE TABLE referral_services (
    id           BLOB PRIMARY KEY NOT NULL,
    referral_id  BLOB NOT NULL REFERENCES referrals (id),
    service      TEXT NOT NULL,
    delivered_on TEXT NOT NULL,
    recorded_by  BLOB REFERENCES users (id),
    recorded_at  TEXT NOT NULL
) STRICT;

CREATE INDEX referral_services_referral ON referral_services (referral_id);

-- In-app notifications. They name a referral and a step, never survivor data.
CREATE TABLE notifications (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    referral_id  BLOB REFERENCES referrals (id),
    org_name     TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    read_at      TEXT
) STRICT;

CREATE INDEX notifications_user ON notifications (user_id, created_at);
