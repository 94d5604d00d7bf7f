-- The PostgreSQL baseline of `fintrack import sanctions`: \copy, then INSERT...SELECT of the
-- actions and of their measures (split on "; ").
BEGIN;
CREATE TEMP TABLE raw_sanctions (
    id int, authority text, program text, target text, action text, measures text,
    status text, announced date, effective date, expires date, deadline date,
    deadline_label text, legal_ref text, summary text, ref text
);
\copy raw_sanctions FROM '@DATA@/sanctions.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO changes (at, analyst, command) VALUES (now() AT TIME ZONE 'UTC', 'bench', 'psql import');
INSERT INTO sanction_actions (
    ref, authority, program, target, action, status, announced_on, effective_on, expires_on,
    deadline_on, deadline_label, legal_ref, summary, created_at, known_from, change_id
)
SELECT ref, authority, NULLIF(program, ''), target, action, status, announced, effective,
       expires, deadline, NULLIF(deadline_label, ''), NULLIF(legal_ref, ''),
       NULLIF(summary, ''), c.at, c.at, c.id
FROM raw_sanctions, (SELECT id, at FROM changes ORDER BY id DESC LIMIT 1) AS c
ORDER BY raw_sanctions.id;
INSERT INTO sanction_measures (sanction_id, position, measure, known_from, change_id)
SELECT s.id, m.n - 1, m.measure, s.known_from, s.change_id
FROM raw_sanctions AS r
JOIN sanction_actions AS s ON s.ref = r.ref,
     unnest(string_to_array(r.measures, '; ')) WITH ORDINALITY AS m(measure, n)
WHERE r.measures <> '';
COMMIT;
