-- name: insert_event
INSERT INTO audit_events (token_id, token_name, customer_id, action, resource_type, resource_id, job_id, changes)
VALUES (%(token_id)s, %(token_name)s, %(customer_id)s, %(action)s, %(resource_type)s, %(resource_id)s,
        %(job_id)s, %(changes)s)
RETURNING *

-- name: list_events
-- Newest first, keyset on id. A NULL filter matches everything; an unbound
-- caller passes only_customer NULL, a bound one its customer (and never sees
-- token events: tokens are managed by unbound admins only).
SELECT * FROM audit_events
WHERE (%(only_customer)s::uuid IS NULL OR (customer_id = %(only_customer)s::uuid AND resource_type <> 'token'))
  AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s::uuid)
  AND (%(resource_type)s::text IS NULL OR resource_type = %(resource_type)s::text)
  AND (%(resource_id)s::text IS NULL OR resource_id = %(resource_id)s::text)
  AND (%(job_id)s::uuid IS NULL OR job_id = %(job_id)s::uuid)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s::timestamptz)
  AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
ORDER BY id DESC
LIMIT %(limit)s
