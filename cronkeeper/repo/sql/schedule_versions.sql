-- name: insert_version
INSERT INTO schedule_versions (job_id, version, at, actor, token_id, before, after, reverted_from, note)
VALUES (%(job_id)s, %(version)s, %(at)s, %(actor)s, %(token_id)s, %(before)s, %(after)s,
        %(reverted_from)s, %(note)s)
RETURNING *

-- name: latest_version
SELECT coalesce(max(version), 0) AS version FROM schedule_versions WHERE job_id = %(job_id)s

-- name: get_version
SELECT * FROM schedule_versions WHERE job_id = %(job_id)s AND version = %(version)s

-- name: list_versions
-- newest first; keyset on version (the primary key's index)
SELECT * FROM schedule_versions
WHERE job_id = %(job_id)s AND (%(before)s::integer IS NULL OR version < %(before)s)
ORDER BY version DESC
LIMIT %(limit)s

-- name: mark_reverted
UPDATE schedule_versions SET reverted_from = %(reverted_from)s
WHERE job_id = %(job_id)s AND version = %(version)s
RETURNING *
