-- The baseline of `fintrack export installments`: every installment of a pledge not voided,
-- with what was paid on it and what is left (@TODAY@ decides due or overdue).
WITH paid AS (
    SELECT installment_id, SUM(amount_minor) AS paid FROM disbursements
    WHERE voided_at IS NULL GROUP BY installment_id
)
SELECT i.pledge_id, i.seq, i.due_on AS due, p.currency, i.amount_minor AS amount,
       COALESCE(paid.paid, 0) AS paid, i.amount_minor - COALESCE(paid.paid, 0) AS outstanding,
       CASE WHEN COALESCE(paid.paid, 0) >= i.amount_minor THEN 'paid'
            WHEN CAST(i.due_on AS TEXT) < '@TODAY@' THEN 'overdue' ELSE 'due' END AS state,
       p.ref AS pledge_ref
FROM installments AS i
JOIN pledges AS p ON p.id = i.pledge_id
LEFT JOIN paid ON paid.installment_id = i.id
WHERE p.voided_at IS NULL
ORDER BY i.pledge_id, i.seq;
