-- The baseline of `fintrack import pledges --installments`: the shell's .import into raw
-- tables, then INSERT...SELECT into fintrack's own schema (keys, checks and indexes in place).
-- @DATA@ is replaced by the dataset's folder.
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE raw_pledges (
    id, donor, recipient, purpose, currency, pledged, disbursed, outstanding, fulfilled_pct,
    status, announced, installments, next_due, schedule_assumed, ref, replaces, replaced_by
);
CREATE TEMP TABLE raw_installments (
    pledge_id, seq, due, currency, amount, paid, outstanding, state, pledge_ref
);
.import --csv --skip 1 @DATA@/pledges.csv raw_pledges
.import --csv --skip 1 @DATA@/installments.csv raw_installments
-- Indexes on the raw file ids and refs, so that finding what a pledge replaces is a search,
-- not a scan of the file per pledge (without them the UPDATE below grows with the square
-- of the pledges: over 22 minutes at scale 1).
CREATE INDEX temp.raw_pledges_id ON raw_pledges (id);
CREATE INDEX temp.raw_pledges_ref ON raw_pledges (ref);
INSERT INTO changes (at, analyst, command) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), 'bench', 'sqlite3 import');
INSERT INTO pledges (
    ref, donor, recipient, purpose, currency, amount_minor, status, announced_on,
    schedule_assumed, created_at, known_from, change_id
)
SELECT ref, donor, recipient, NULLIF(purpose, ''), currency,
       CAST(REPLACE(pledged, '.', '') AS INTEGER), status, NULLIF(announced, ''),
       schedule_assumed = 'true', c.at, c.at, c.id
FROM raw_pledges, (SELECT id, at FROM changes ORDER BY id DESC LIMIT 1) AS c
ORDER BY CAST(raw_pledges.id AS INTEGER);
UPDATE pledges SET replaces_id = (
    SELECT old.id FROM raw_pledges AS r
    JOIN raw_pledges AS o ON o.id = r.replaces
    JOIN pledges AS old ON old.ref = o.ref
    WHERE r.ref = pledges.ref
) WHERE ref IN (SELECT ref FROM raw_pledges WHERE replaces <> '');
INSERT INTO installments (pledge_id, seq, due_on, amount_minor, known_from, change_id)
SELECT p.id, CAST(i.seq AS INTEGER), i.due, CAST(REPLACE(i.amount, '.', '') AS INTEGER),
       p.known_from, p.change_id
FROM raw_installments AS i JOIN pledges AS p ON p.ref = i.pledge_ref;
COMMIT;
