-- The baseline of `fintrack import disbursements`: .import, then INSERT...SELECT that finds
-- each payment's pledge by ref and installment by number.
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE raw_disbursements (id, pledge_id, installment, paid_on, currency, amount, pledge_ref);
.import --csv --skip 1 @DATA@/disbursements.csv raw_disbursements
INSERT INTO changes (at, analyst, command) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), 'bench', 'sqlite3 import');
INSERT INTO disbursements (
    pledge_id, installment_id, paid_on, amount_minor, created_at, known_from, change_id
)
SELECT p.id, i.id, d.paid_on, CAST(REPLACE(d.amount, '.', '') AS INTEGER), c.at, c.at, c.id
FROM raw_disbursements AS d
JOIN pledges AS p ON p.ref = d.pledge_ref
JOIN installments AS i ON i.pledge_id = p.id AND i.seq = CAST(d.installment AS INTEGER),
     (SELECT id, at FROM changes ORDER BY id DESC LIMIT 1) AS c
ORDER BY CAST(d.id AS INTEGER);
COMMIT;
