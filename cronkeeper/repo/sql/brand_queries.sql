-- name: insert_query
INSERT INTO brand_queries (brand_id, text, is_active)
VALUES (%(brand_id)s, %(text)s, %(is_active)s) RETURNING *

-- name: list_queries
SELECT * FROM brand_queries
WHERE brand_id = %(brand_id)s AND (%(active_only)s::boolean IS NOT TRUE OR is_active)
ORDER BY id

-- name: get_query
SELECT * FROM brand_queries WHERE id = %(id)s AND brand_id = %(brand_id)s

-- name: update_query
UPDATE brand_queries SET text = %(text)s, is_active = %(is_active)s, updated_at = now()
WHERE id = %(id)s AND brand_id = %(brand_id)s RETURNING *

-- name: delete_query
DELETE FROM brand_queries WHERE id = %(id)s AND brand_id = %(brand_id)s RETURNING id
