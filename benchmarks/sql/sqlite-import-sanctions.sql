-- The baseline of `fintrack import sanctions`: .import, then INSERT...SELECT of the actions
-- and of their measures (split on "; ").
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE raw_sanctions (
    id, authority, program, target, action, measures, status, announced, effective, expires,
    deadline, deadline_label, legal_ref, summary, ref
);
.import --csv --skip 1 @DATA@/sanctions.csv raw_sanctions
INSERT INTO changes (at, analyst, command) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), 'bench', 'sqlite3 import');
INSERT INTO sanction_actions (
    ref, authority, program, target, action, status, announced_on, effective_on, expires_on,
    deadline_on, deadline_label, legal_ref, summary, created_at, known_from, change_id
)
SELECT ref, authority, NULLIF(program, ''), target, action, status, NULLIF(announced, ''),
       NULLIF(effective, ''), NULLIF(expires, ''), NULLIF(deadline, ''),
       NULLIF(deadline_label, ''), NULLIF(legal_ref, ''), NULLIF(summary, ''), c.at, c.at, c.id
FROM raw_sanctions, (SELECT id, at FROM changes ORDER BY id DESC LIMIT 1) AS c
ORDER BY CAST(raw_sanctions.id AS INTEGER);
WITH RECURSIVE split(ref, position, measure, rest) AS (
    SELECT ref, -1, NULL, measures || '; ' FROM raw_sanctions WHERE measures <> ''
    UNION ALL
    SELECT ref, position + 1, substr(rest, 1, instr(rest, '; ') - 1),
           substr(rest, instr(rest, '; ') + 2)
    FROM split WHERE rest <> ''
)
INSERT INTO sanction_measures (sanction_id, position, measure, known_from, change_id)
SELECT s.id, split.position, split.measure, s.known_from, s.change_id
FROM split JOIN sanction_actions AS s ON s.ref = split.ref
WHERE split.position >= 0;
COMMIT;
