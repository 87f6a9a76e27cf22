-- Each withdrawal of her consent to share with a partner organisation: who recorded it, when,
-- and how it came about (sealed with her data key: it may describe her). A withdrawal ends
-- every share, consent and open referral to that organisation in its transaction.
CREATE TABLE consent_withdrawals (
    id            BLOB PRIMARY KEY NOT NULL,
    survivor_id   BLOB NOT NULL REFERENCES survivors (id),
    org_id        BLOB NOT NULL REFERENCES organisations (id),
    withdrawn_by  BLOB NOT NULL REFERENCES users (id),
    withdrawn_at  TEXT NOT NULL,
    reason        BLOB
) STRICT;

CREATE INDEX consent_withdrawals_survivor ON consent_withdrawals (survivor_id, withdrawn_at);
