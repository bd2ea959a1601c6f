-- Times as the API writes them in JSON: UTC, "Z", microseconds only when
-- there are any ("2027-01-04T09:00:00Z", "2027-01-04T09:00:00.250000Z").
-- The list routes build their pages' JSON in PostgreSQL with this (the
-- single-object routes encode the same values in Python), so a run looks
-- the same in /job-runs and in /job-runs/{id}. Not STRICT, so PostgreSQL can
-- inline it (NULL gives NULL all the same).
CREATE FUNCTION ck_json_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN date_part('microseconds', t)::int % 1000000 = 0
                THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END
$$;
