-- name: slots
-- Cross-process collector slots (cronkeeper/collectors/gate.py): give back the
-- session advisory locks (ns, slot) in release, then try the candidates in the
-- given order and keep at most want of them. No ORDER BY: with one, every
-- candidate would be locked before the LIMIT applies.
SELECT
    ARRAY(
        SELECT s FROM unnest(%(candidates)s::int[]) AS s
        WHERE pg_try_advisory_lock(%(ns)s::int4, s)
        LIMIT %(want)s
    ) AS got,
    (SELECT count(*) FROM unnest(%(release)s::int[]) AS r WHERE pg_advisory_unlock(%(ns)s::int4, r)) AS released

-- name: reserve
-- Reserve n tokens of a collector's rate (GCRA): the new theoretical arrival
-- time, as seconds ahead of this statement's start.
INSERT INTO collector_rate_limits AS l (key, tat)
VALUES (%(key)s, statement_timestamp() + %(n)s * %(interval)s * interval '1 second')
ON CONFLICT (key) DO UPDATE
SET tat = greatest(l.tat, statement_timestamp()) + %(n)s * %(interval)s * interval '1 second'
RETURNING extract(epoch FROM tat - statement_timestamp())::float8 AS ahead
