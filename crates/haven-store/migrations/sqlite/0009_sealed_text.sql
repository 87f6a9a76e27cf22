-- Erasure that leaves nothing readable, and free text about people sealed.
--
-- Text about her in legal work (her accompaniment plans, her preparation sessions, what was
-- explained to her) moves from the case key to HER data key, so erasing her key makes it
-- unreadable; evidence linked to her can be put on legal hold before an erasure, and is
-- otherwise destroyed with her record.
--
-- Earlier rows hold clear text (or text sealed with another key) that SQL cannot seal, so a
-- database that already holds such rows is refused with a message saying so; `haven demo`
-- starts from a fresh database and re-seeds.
CREATE TEMP TABLE reseal_guard (n INTEGER);
CREATE TEMP TRIGGER reseal_guard_refuses BEFORE INSERT ON reseal_guard
BEGIN
    SELECT RAISE(ABORT, 'this version of Haven seals free text that earlier versions kept in clear, and this database already holds such rows; it cannot seal them in place. Export the data with the earlier version, create a fresh database with this one, and import it again');
END;
INSERT INTO reseal_guard SELECT 1 WHERE
    EXISTS (SELECT 1 FROM legal_decisions) OR EXISTS (SELECT 1 FROM legal_accompaniment)
    OR EXISTS (SELECT 1 FROM legal_sessions) OR EXISTS (SELECT 1 FROM evidence)
       OR EXISTS (SELECT 1 FROM legal_stages) OR EXISTS (SELECT 1 FROM legal_deadlines)
       OR EXISTS (SELECT 1 FROM referral_consents);
DROP TRIGGER reseal_guard_refuses;
DROP TABLE reseal_guard;

ALTER TABLE legal_accompaniment DROP COLUMN companions;
ALTER TABLE legal_accompaniment DROP COLUMN transport;
ALTER TABLE legal_accompaniment ADD COLUMN sealed_companions BLOB NOT NULL DEFAULT x'';
ALTER TABLE legal_accompaniment ADD COLUMN sealed_transport BLOB NOT NULL DEFAULT x'';

ALTER TABLE legal_sessions DROP COLUMN staff;
ALTER TABLE legal_sessions ADD COLUMN sealed_staff BLOB NOT NULL DEFAULT x'';

-- Case-level text (stage notes, court deadlines) sealed with the case key.
ALTER TABLE legal_stages DROP COLUMN note;
ALTER TABLE legal_stages ADD COLUMN sealed_note BLOB NOT NULL DEFAULT x'';
ALTER TABLE legal_deadlines DROP COLUMN title;
ALTER TABLE legal_deadlines ADD COLUMN sealed_title BLOB NOT NULL DEFAULT x'';

-- Evidence descriptions and custody reasons, sealed with the case key (bound to the item or
-- the custody entry): who collected it, where and how can name people and places.
ALTER TABLE evidence DROP COLUMN title;
ALTER TABLE evidence DROP COLUMN collected_by;
ALTER TABLE evidence DROP COLUMN collected_where;
ALTER TABLE evidence DROP COLUMN collected_how;
ALTER TABLE evidence DROP COLUMN file_name;
ALTER TABLE evidence ADD COLUMN sealed_title BLOB NOT NULL DEFAULT x'';
ALTER TABLE evidence ADD COLUMN sealed_collected_by BLOB NOT NULL DEFAULT x'';
ALTER TABLE evidence ADD COLUMN sealed_collected_where BLOB NOT NULL DEFAULT x'';
ALTER TABLE evidence ADD COLUMN sealed_collected_how BLOB NOT NULL DEFAULT x'';
ALTER TABLE evidence ADD COLUMN sealed_file_name BLOB;
ALTER TABLE evidence_custody DROP COLUMN reason;
ALTER TABLE evidence_custody ADD COLUMN sealed_reason BLOB NOT NULL DEFAULT x'';

-- What she agreed her information is shared for, sealed with her data key.
ALTER TABLE referral_consents DROP COLUMN purpose;
ALTER TABLE referral_consents ADD COLUMN sealed_purpose BLOB NOT NULL DEFAULT x'';

-- A legal hold keeps an item (and its file) through her erasure: decided before, by whom,
-- when and why (the reason sealed with the case key).
ALTER TABLE evidence ADD COLUMN legal_hold_by BLOB REFERENCES users (id);
ALTER TABLE evidence ADD COLUMN legal_hold_at TEXT;
ALTER TABLE evidence ADD COLUMN sealed_legal_hold_reason BLOB;
-- Set when her erasure destroyed the item (its key and file); the row stays for the
-- chain of custody, which is append-only.
ALTER TABLE evidence ADD COLUMN erased_at TEXT;
CREATE INDEX evidence_survivor ON evidence (survivor_id) WHERE survivor_id IS NOT NULL;
