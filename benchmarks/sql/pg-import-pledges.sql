-- The PostgreSQL baseline of `fintrack import pledges --installments`: psql's \copy into raw
-- tables, then INSERT...SELECT into fintrack's own schema. @DATA@ is the dataset's folder.
BEGIN;
CREATE TEMP TABLE raw_pledges (
    id int, donor text, recipient text, purpose text, currency text, pledged numeric,
    disbursed text, outstanding text, fulfilled_pct text, status text, announced date,
    installments int, next_due text, schedule_assumed boolean, ref text, replaces int,
    replaced_by text
);
CREATE TEMP TABLE raw_installments (
    pledge_id int, seq int, due date, currency text, amount numeric, paid text,
    outstanding text, state text, pledge_ref text
);
\copy raw_pledges FROM '@DATA@/pledges.csv' WITH (FORMAT csv, HEADER true)
\copy raw_installments FROM '@DATA@/installments.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO changes (at, analyst, command) VALUES (now() AT TIME ZONE 'UTC', 'bench', 'psql import');
INSERT INTO pledges (
    ref, donor, recipient, purpose, currency, amount_minor, status, announced_on,
    schedule_assumed, created_at, known_from, change_id
)
SELECT ref, donor, recipient, NULLIF(purpose, ''), currency, (pledged * 100)::bigint, status,
       announced, schedule_assumed, c.at, c.at, c.id
FROM raw_pledges, (SELECT id, at FROM changes ORDER BY id DESC LIMIT 1) AS c
ORDER BY raw_pledges.id;
UPDATE pledges SET replaces_id = old.id
FROM raw_pledges AS r JOIN raw_pledges AS o ON o.id = r.replaces JOIN pledges AS old ON old.ref = o.ref
WHERE pledges.ref = r.ref;
INSERT INTO installments (pledge_id, seq, due_on, amount_minor, known_from, change_id)
SELECT p.id, i.seq, i.due, (i.amount * 100)::bigint, p.known_from, p.change_id
FROM raw_installments AS i JOIN pledges AS p ON p.ref = i.pledge_ref;
COMMIT;
