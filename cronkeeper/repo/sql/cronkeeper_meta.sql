-- name: get_value
SELECT value FROM cronkeeper_meta WHERE key = %(key)s

-- name: put_value
INSERT INTO cronkeeper_meta (key, value, updated_at)
VALUES (%(key)s, %(value)s, %(now)s)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at

-- name: delete_value
DELETE FROM cronkeeper_meta WHERE key = %(key)s

-- name: try_xact_lock
SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS locked
