-- Each withdrawal of her consent to share with a partner organisation: who recorded it, when,
-- and how it came about (sealed with her data key: it may describe her). A withdrawal ends
-- every share, consent and open referral to that organisation in its transaction.
CREATE TABLE consent_withdrawals (
    id            UUID PRIMARY KEY,
    survivor_id   UUID NOT NULL REFERENCES survivors (id),
    org_id        UUID NOT NULL REFERENCES organisations (id),
    withdrawn_by  UUID NOT NULL REFERENCES users (id),
    withdrawn_at  TIMESTAMPTZ NOT NULL,
    reason        BYTEA
);

CREATE INDEX consent_withdrawals_survivor ON consent_withdrawals (survivor_id, withdrawn_at);
