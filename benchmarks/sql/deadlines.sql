-- The baseline of `fintrack deadlines --as-of @ASOF@ --within @DAYS@`: installments not paid
-- in full that fall due by the end of the window (overdue ones too), and sanction deadlines
-- and expiries in the window or lapsed before it with no later action, by date. run.py fills in @ASOF@ and @END@.
WITH paid AS (
    SELECT installment_id, SUM(amount_minor) AS paid FROM disbursements
    WHERE voided_at IS NULL GROUP BY installment_id
)
SELECT CAST(i.due_on AS TEXT) AS day, 'installment' AS kind, p.donor || ' → ' || p.recipient,
       p.currency, i.amount_minor - COALESCE(paid.paid, 0) AS amount, p.id
FROM installments AS i
JOIN pledges AS p ON p.id = i.pledge_id
LEFT JOIN paid ON paid.installment_id = i.id
WHERE i.due_on <= '@END@' AND i.amount_minor > COALESCE(paid.paid, 0) AND p.voided_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM pledges AS r WHERE r.replaces_id = p.id AND r.voided_at IS NULL)
UNION ALL
SELECT CAST(deadline_on AS TEXT), 'deadline', authority || ' ' || COALESCE(program, ''), NULL, NULL, id
FROM sanction_actions AS a
WHERE a.voided_at IS NULL AND a.status <> 'revoked' AND (
    a.deadline_on BETWEEN '@ASOF@' AND '@END@'
    OR (a.deadline_on < '@ASOF@' AND NOT EXISTS (
        SELECT 1 FROM sanction_actions AS o
        WHERE o.id <> a.id AND o.authority = a.authority AND o.voided_at IS NULL
          AND (o.program = a.program OR (o.program IS NULL AND a.program IS NULL))
          AND o.status <> 'revoked'
          AND (o.announced_on >= a.deadline_on OR o.effective_on >= a.deadline_on
               OR o.deadline_on > a.deadline_on OR o.expires_on > a.deadline_on))))
UNION ALL
SELECT CAST(expires_on AS TEXT), 'expiry', authority || ' ' || COALESCE(program, ''), NULL, NULL, id
FROM sanction_actions AS a
WHERE a.voided_at IS NULL AND a.status <> 'revoked' AND (
    a.expires_on BETWEEN '@ASOF@' AND '@END@'
    OR (a.expires_on < '@ASOF@' AND NOT EXISTS (
        SELECT 1 FROM sanction_actions AS o
        WHERE o.id <> a.id AND o.authority = a.authority AND o.voided_at IS NULL
          AND (o.program = a.program OR (o.program IS NULL AND a.program IS NULL))
          AND o.status <> 'revoked'
          AND (o.announced_on >= a.expires_on OR o.effective_on >= a.expires_on
               OR o.deadline_on > a.expires_on OR o.expires_on > a.expires_on))))
ORDER BY 1, 2, 6;
