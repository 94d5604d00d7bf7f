-- The baseline of `fintrack export pledges`: every pledge not voided, with what was disbursed,
-- what is outstanding, its number of installments, next due date and the pledge replacing it.
WITH paid AS (
    SELECT pledge_id, SUM(amount_minor) AS paid FROM disbursements
    WHERE voided_at IS NULL GROUP BY pledge_id
),
schedule AS (
    SELECT i.pledge_id, COUNT(*) AS installments,
           MIN(CASE WHEN i.amount_minor > COALESCE(ip.paid, 0) THEN i.due_on END) AS next_due
    FROM installments AS i
    LEFT JOIN (SELECT installment_id, SUM(amount_minor) AS paid FROM disbursements
               WHERE voided_at IS NULL GROUP BY installment_id) AS ip
           ON ip.installment_id = i.id
    GROUP BY i.pledge_id
)
SELECT p.id, p.donor, p.recipient, p.purpose, p.currency, p.amount_minor AS pledged,
       COALESCE(paid.paid, 0) AS disbursed, p.amount_minor - COALESCE(paid.paid, 0) AS outstanding,
       ROUND(100.0 * COALESCE(paid.paid, 0) / p.amount_minor, 1) AS fulfilled_pct, p.status,
       p.announced_on AS announced, s.installments, s.next_due, p.schedule_assumed, p.ref,
       p.replaces_id AS replaces, r.id AS replaced_by
FROM pledges AS p
LEFT JOIN paid ON paid.pledge_id = p.id
LEFT JOIN schedule AS s ON s.pledge_id = p.id
LEFT JOIN pledges AS r ON r.replaces_id = p.id AND r.voided_at IS NULL
WHERE p.voided_at IS NULL
ORDER BY p.id;
