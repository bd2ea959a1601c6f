-- name: upsert_process
INSERT INTO processes (id, kind, hostname, pid, started_at, heartbeat_at, info, clock_skew_seconds)
VALUES (%(id)s, %(kind)s, %(hostname)s, %(pid)s, %(now)s, %(now)s, %(info)s, %(skew)s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = NULL,
    info = EXCLUDED.info, clock_skew_seconds = EXCLUDED.clock_skew_seconds

-- name: mark_stopped
UPDATE processes SET stopped_at = %(now)s WHERE id = %(id)s

-- name: list_processes
SELECT * FROM processes
WHERE stopped_at IS NULL AND heartbeat_at > %(since)s
ORDER BY kind, started_at

-- name: last_seen
SELECT kind, max(heartbeat_at) AS heartbeat_at FROM processes GROUP BY kind

-- name: last_beat
-- The newest heartbeat of a running process of this kind, on this host or with
-- this id (processes_heartbeat_idx: kind, heartbeat_at DESC).
SELECT id, hostname, heartbeat_at FROM processes
WHERE kind = %(kind)s AND stopped_at IS NULL
  AND (%(hostname)s::text IS NULL OR hostname = %(hostname)s)
  AND (%(id)s::text IS NULL OR id = %(id)s)
ORDER BY heartbeat_at DESC
LIMIT 1
