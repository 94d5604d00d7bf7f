-- The baseline of `fintrack totals --by currency --in USD`: every installment and payment
-- converted at the latest rate of its date or up to 7 days before (1 for USD itself), summed
-- per currency. run.py fills in @RATES_ON@ (a date literal: amounts due after it convert at
-- its rate) and @WEEK_BEFORE_DAY@ (a.day less 7 days, in the engine's own dialect).
WITH p AS (
    SELECT id, currency FROM pledges AS p WHERE voided_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM pledges AS r WHERE r.replaces_id = p.id AND r.voided_at IS NULL)
),
amounts AS (
    SELECT p.currency, CASE WHEN i.due_on > @RATES_ON@ THEN @RATES_ON@ ELSE i.due_on END AS day,
           i.amount_minor AS pledged, 0 AS disbursed
    FROM installments AS i JOIN p ON p.id = i.pledge_id
    UNION ALL
    SELECT p.currency, d.paid_on, 0, d.amount_minor
    FROM disbursements AS d JOIN installments AS i ON i.id = d.installment_id
    JOIN p ON p.id = i.pledge_id
    WHERE d.voided_at IS NULL
),
converted AS (
    SELECT a.currency, a.pledged, a.disbursed,
           CASE WHEN a.currency = 'USD' THEN 1 ELSE (
               SELECT CAST(x.rate AS NUMERIC) FROM exchange_rates AS x
               WHERE x.base = a.currency AND x.quote = 'USD'
                 AND x.rate_on <= a.day AND x.rate_on >= @WEEK_BEFORE_DAY@
               ORDER BY x.rate_on DESC LIMIT 1) END AS rate
    FROM amounts AS a
)
SELECT currency, 'USD' AS target, SUM(pledged * rate) / 100.0 AS pledged,
       SUM(disbursed * rate) / 100.0 AS disbursed
FROM converted GROUP BY currency
UNION ALL
SELECT NULL, 'USD', SUM(pledged * rate) / 100.0, SUM(disbursed * rate) / 100.0 FROM converted
ORDER BY 1;
