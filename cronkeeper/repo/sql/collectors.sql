-- name: list_collectors
SELECT * FROM collectors ORDER BY name

-- name: upsert_collector
INSERT INTO collectors (name, kind, config, is_active)
VALUES (%(name)s, %(kind)s, %(config)s, %(is_active)s)
ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config,
    is_active = EXCLUDED.is_active, updated_at = now()
RETURNING *

-- name: delete_collector
DELETE FROM collectors WHERE name = %(name)s RETURNING name
