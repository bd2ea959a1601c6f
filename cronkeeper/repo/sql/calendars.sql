-- Every query on calendars and their dates (calendar_dates): cronkeeper/repo/calendars.py

-- name: insert_calendar
INSERT INTO calendars (customer_id, name, business_days_only)
VALUES (%(customer_id)s, %(name)s, %(business_days_only)s)
RETURNING *, 0 AS date_count

-- name: get_calendar
SELECT c.*, (SELECT count(*) FROM calendar_dates d WHERE d.calendar_id = c.id)::int AS date_count
FROM calendars c
WHERE c.id = %(id)s AND (%(customer_id)s::uuid IS NULL OR c.customer_id = %(customer_id)s)

-- name: get_calendar_for_update
SELECT c.*, 0 AS date_count FROM calendars c
WHERE c.id = %(id)s AND (%(customer_id)s::uuid IS NULL OR c.customer_id = %(customer_id)s)
FOR UPDATE

-- name: list_calendars
SELECT c.*, (SELECT count(*) FROM calendar_dates d WHERE d.calendar_id = c.id)::int AS date_count
FROM calendars c
WHERE (%(customer_id)s::uuid IS NULL OR c.customer_id = %(customer_id)s)
ORDER BY c.customer_id, c.name
LIMIT %(limit)s

-- name: update_calendar
UPDATE calendars SET name = %(name)s, business_days_only = %(business_days_only)s, updated_at = now()
WHERE id = %(id)s
RETURNING *, (SELECT count(*) FROM calendar_dates d WHERE d.calendar_id = calendars.id)::int AS date_count

-- name: touch_calendar
UPDATE calendars SET updated_at = now() WHERE id = %(id)s

-- name: delete_calendar
DELETE FROM calendars
WHERE id = %(id)s AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
RETURNING id

-- name: list_dates
SELECT day, label FROM calendar_dates WHERE calendar_id = %(calendar_id)s ORDER BY day

-- name: add_dates
-- a date already there keeps its row; a new label replaces an old one
INSERT INTO calendar_dates (calendar_id, day, label)
SELECT %(calendar_id)s, u.day, u.label
FROM unnest(%(days)s::date[], %(labels)s::text[]) AS u(day, label)
ON CONFLICT (calendar_id, day) DO UPDATE SET label = COALESCE(EXCLUDED.label, calendar_dates.label)
RETURNING day, (xmax = 0) AS inserted

-- name: remove_date
DELETE FROM calendar_dates WHERE calendar_id = %(calendar_id)s AND day = %(day)s
RETURNING day

-- name: calendar_rules
-- the calendars of a tick's due jobs, each with every excluded date (one query per tick)
SELECT c.id, c.name, c.business_days_only,
       COALESCE(array_agg(d.day) FILTER (WHERE d.day IS NOT NULL), '{}') AS days
FROM calendars c
LEFT JOIN calendar_dates d ON d.calendar_id = c.id
WHERE c.id = ANY(%(ids)s::uuid[])
GROUP BY c.id
