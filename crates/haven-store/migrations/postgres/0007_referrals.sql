-- Partner network and referrals: partner profiles, her informed consent (built on
-- survivor_shares), referrals and their history, services delivered, in-app notifications.

-- What a partner offers beyond its services: who it accepts, languages, regions, beds.
-- Occupancy is kept by the partner's own staff, and moved by admissions and discharges.
CREATE TABLE partner_profiles (
    org_id         UUID PRIMARY KEY REFERENCES organisations (id),
    min_age        BIGINT CHECK (min_age IS NULL OR min_age BETWEEN 0 AND 120),
    max_age        BIGINT CHECK (max_age IS NULL OR max_age BETWEEN 0 AND 120),
    sexes          TEXT NOT NULL DEFAULT '',
    languages      TEXT NOT NULL DEFAULT '',
    regions        TEXT NOT NULL DEFAULT '',
    beds           BIGINT NOT NULL DEFAULT 0 CHECK (beds >= 0),
    occupancy      BIGINT NOT NULL DEFAULT 0 CHECK (occupancy >= 0 AND occupancy <= beds),
    contact_name   TEXT NOT NULL DEFAULT '',
    contact_phone  TEXT NOT NULL DEFAULT '',
    contact_email  TEXT NOT NULL DEFAULT '',
    agreement      TEXT NOT NULL DEFAULT 'active' CHECK (agreement IN ('active', 'paused', 'ended')),
    updated_at     TIMESTAMPTZ NOT NULL,
    updated_by     UUID REFERENCES users (id)
);

-- Her informed consent to share kinds of information with one partner, for one purpose.
-- The share row it created drives the access policy; withdrawing both ends access at once.
-- The co-signer's name is sealed with her data key.
CREATE TABLE referral_consents (
    id              UUID PRIMARY KEY,
    survivor_id     UUID NOT NULL REFERENCES survivors (id),
    org_id          UUID NOT NULL REFERENCES organisations (id),
    share_id        UUID NOT NULL UNIQUE REFERENCES survivor_shares (id),
    classes         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    explained_by    UUID NOT NULL REFERENCES users (id),
    language        TEXT NOT NULL,
    cosigner_role   TEXT CHECK (cosigner_role IS NULL OR cosigner_role IN ('guardian', 'social_affairs_officer')),
    cosigner_name   BYTEA,
    given_at        TIMESTAMPTZ NOT NULL,
    withdrawn_at    TIMESTAMPTZ,
    withdrawn_by    UUID REFERENCES users (id)
);

CREATE INDEX referral_consents_survivor ON referral_consents (survivor_id, org_id);

CREATE TABLE referrals (
    id                 UUID PRIMARY KEY,
    survivor_id        UUID NOT NULL REFERENCES survivors (id),
    org_id             UUID NOT NULL REFERENCES organisations (id),
    need               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'admitted', 'discharged', 'withdrawn')),
    consent_id         UUID REFERENCES referral_consents (id),
    age_band           TEXT NOT NULL,
    holds_bed          BOOLEAN NOT NULL DEFAULT FALSE,
    decline_reason     TEXT,
    withdraw_reason    TEXT,
    discharge_outcome  TEXT,
    created_by         UUID NOT NULL REFERENCES users (id),
    created_at         TIMESTAMPTZ NOT NULL,
    sent_at            TIMESTAMPTZ,
    decided_at         TIMESTAMPTZ,
    admitted_at        TIMESTAMPTZ,
    discharged_at      TIMESTAMPTZ,
    updated_at         TIMESTAMPTZ NOT NULL
);

CREATE INDEX referrals_org ON referrals (org_id, status, updated_at);
CREATE INDEX referrals_survivor ON referrals (survivor_id, created_at);
-- She lives in one place at a time: at most one admitted placement.
CREATE UNIQUE INDEX referrals_one_admitted ON referrals (survivor_id) WHERE status = 'admitted' AND need = 'placement';

-- Every step of every referral, in order: the continuous history of where she has been.
CREATE TABLE referral_events (
    id           UUID PRIMARY KEY,
    referral_id  UUID NOT NULL REFERENCES referrals (id),
    status       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    at           TIMESTAMPTZ NOT NULL,
    by_user      UUID REFERENCES users (id)
);

CREATE INDEX referral_events_referral ON referral_events (referral_id, at);

-- Services a partner delivered on a referral.
CREATE TABLE referral_services (
    id           UUID PRIMARY KEY,
    referral_id  UUID NOT NULL REFERENCES referrals (id),
    service      TEXT NOT NULL,
    delivered_on DATE NOT NULL,
    recorded_by  UUID REFERENCES users (id),
    recorded_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX referral_services_referral ON referral_services (referral_id);

-- In-app notifications. They name a referral and a step, never survivor data.
CREATE TABLE notifications (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    referral_id  UUID REFERENCES referrals (id),
    org_name     TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    read_at      TIMESTAMPTZ
);

CREATE INDEX notifications_user ON notifications (user_id, created_at);
