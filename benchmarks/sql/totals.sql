-- The baseline of `fintrack totals`: one pass over installments with their pledge, the money
-- paid on each and the pledge's best confidence, grouped, followed by each currency's total.
-- run.py fills in @GROUP@ (the grouping columns, or none), @AT@ (the end of the --known-on day,
-- or far in the future) and @MIN_RANK@ (0: every record; 3: reported or confirmed).
WITH p AS (
    SELECT id, donor, recipient, currency FROM @PLEDGES@ AS p
    WHERE (voided_at IS NULL OR voided_at > '@AT@')
      AND NOT EXISTS (
          SELECT 1 FROM @PLEDGES@ AS r
          WHERE r.replaces_id = p.id AND (r.voided_at IS NULL OR r.voided_at > '@AT@'))
      AND COALESCE((SELECT MAX(CASE l.confidence WHEN 'confirmed' THEN 4 WHEN 'reported' THEN 3
                                   WHEN 'unverified' THEN 2 ELSE 1 END)
                    FROM source_links AS l
                    WHERE l.pledge_id = p.id AND l.known_from <= '@AT@'), 0) >= @MIN_RANK@
),
paid AS (
    SELECT installment_id, SUM(amount_minor) AS paid FROM @DISBURSEMENTS@ AS d
    WHERE voided_at IS NULL OR voided_at > '@AT@'
    GROUP BY installment_id
),
rows AS (
    SELECT p.donor, p.recipient, substr(CAST(i.due_on AS TEXT), 1, 7) AS month, p.currency,
           p.id AS pledge_id, i.amount_minor AS pledged, COALESCE(paid.paid, 0) AS disbursed
    FROM @INSTALLMENTS@ AS i
    JOIN p ON p.id = i.pledge_id
    LEFT JOIN paid ON paid.installment_id = i.id
)
SELECT @GROUP@ currency, COUNT(DISTINCT pledge_id) AS pledges, SUM(pledged) AS pledged,
       SUM(disbursed) AS disbursed, SUM(pledged) - SUM(disbursed) AS outstanding, 0 AS total
FROM rows GROUP BY @GROUP@ currency
UNION ALL
SELECT @NULLS@ currency, COUNT(DISTINCT pledge_id), SUM(pledged), SUM(disbursed),
       SUM(pledged) - SUM(disbursed), 1
FROM rows GROUP BY currency
ORDER BY currency, total, 1;
