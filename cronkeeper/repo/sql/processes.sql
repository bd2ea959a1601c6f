-- name: upsert_process
INSERT INTO processes (id, kind, hostname, pid, started_at, heartbeat_at, info)
VALUES (%(id)s, %(kind)s, %(hostname)s, %(pid)s, %(now)s, %(now)s, %(info)s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = NULL,
    info = EXCLUDED.info

-- name: mark_stopped
UPDATE processes SET stopped_at = %(now)s WHERE id = %(id)s

-- name: list_processes
SELECT * FROM processes
WHERE stopped_at IS NULL AND heartbeat_at > %(since)s
ORDER BY kind, started_at

-- name: last_seen
SELECT kind, max(heartbeat_at) AS heartbeat_at FROM processes GROUP BY kind
