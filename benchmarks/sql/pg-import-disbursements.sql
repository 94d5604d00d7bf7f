-- The PostgreSQL baseline of `fintrack import disbursements`: \copy, then INSERT...SELECT that
-- finds each payment's pledge by ref and installment by number.
BEGIN;
CREATE TEMP TABLE raw_disbursements (
    id int, pledge_id int, installment int, paid_on date, currency text, amount numeric,
    pledge_ref text
);
\copy raw_disbursements FROM '@DATA@/disbursements.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO changes (at, analyst, command) VALUES (now() AT TIME ZONE 'UTC', 'bench', 'psql import');
INSERT INTO disbursements (
    pledge_id, installment_id, paid_on, amount_minor, created_at, known_from, change_id
)
SELECT p.id, i.id, d.paid_on, (d.amount * 100)::bigint, c.at, c.at, c.id
FROM raw_disbursements AS d
JOIN pledges AS p ON p.ref = d.pledge_ref
JOIN installments AS i ON i.pledge_id = p.id AND i.seq = d.installment,
     (SELECT id, at FROM changes ORDER BY id DESC LIMIT 1) AS c
ORDER BY d.id;
COMMIT;
