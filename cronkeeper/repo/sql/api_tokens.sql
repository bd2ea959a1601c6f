-- name: insert_token
INSERT INTO api_tokens (name, token_hash, role, customer_id, expires_at)
VALUES (%(name)s, %(token_hash)s, %(role)s, %(customer_id)s, %(expires_at)s)
RETURNING *

-- name: get_by_hash
SELECT * FROM api_tokens WHERE token_hash = %(token_hash)s AND revoked_at IS NULL

-- name: touch_token
UPDATE api_tokens SET last_used_at = %(now)s
WHERE id = %(id)s
  AND (last_used_at IS NULL OR last_used_at < %(now)s - make_interval(secs => %(every)s))

-- name: list_tokens
SELECT * FROM api_tokens
WHERE (%(include_revoked)s::boolean OR revoked_at IS NULL)
ORDER BY id

-- name: get_token
SELECT * FROM api_tokens WHERE id = %(id)s

-- name: revoke_token
UPDATE api_tokens SET revoked_at = %(now)s
WHERE id = %(id)s AND revoked_at IS NULL
RETURNING *
