-- name: insert
INSERT INTO alert_channels (customer_id, kind, target, secret_name, enabled)
VALUES (%(customer_id)s, %(kind)s, %(target)s, %(secret_name)s, %(enabled)s)
RETURNING *

-- name: get
SELECT * FROM alert_channels WHERE id = %(id)s

-- name: list
-- customer_id NULL lists every channel; else that customer's own.
SELECT * FROM alert_channels
WHERE %(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s
ORDER BY id

-- name: update
UPDATE alert_channels SET target = %(target)s, secret_name = %(secret_name)s, enabled = %(enabled)s,
       updated_at = now()
WHERE id = %(id)s
RETURNING *

-- name: delete
DELETE FROM alert_channels WHERE id = %(id)s RETURNING id

-- name: for_customer
-- Where a customer's alerts go: its enabled channels and the enabled global ones.
SELECT id FROM alert_channels
WHERE enabled AND (customer_id = %(customer_id)s OR customer_id IS NULL)
ORDER BY id
