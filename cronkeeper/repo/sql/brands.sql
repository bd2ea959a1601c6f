-- name: insert_brand
INSERT INTO brands (customer_id, name, aliases, competitors)
VALUES (%(customer_id)s, %(name)s, %(aliases)s, %(competitors)s) RETURNING *

-- name: get_brand
SELECT * FROM brands
WHERE id = %(id)s AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)

-- name: list_brands
SELECT * FROM brands
WHERE (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
  AND (%(search)s::text IS NULL OR name ILIKE '%%' || %(search)s || '%%')
ORDER BY name, id LIMIT %(limit)s OFFSET %(offset)s

-- name: update_brand
UPDATE brands SET name = %(name)s, aliases = %(aliases)s, competitors = %(competitors)s,
    updated_at = now()
WHERE id = %(id)s RETURNING *

-- name: delete_brand
DELETE FROM brands
WHERE id = %(id)s AND (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
RETURNING id

-- name: list_brands_page
SELECT * FROM brands
WHERE (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
  AND (%(search)s::text IS NULL OR name ILIKE '%%' || %(search)s || '%%')
  AND (%(after_name)s::text IS NULL OR (name, id) > (%(after_name)s, %(after_id)s::uuid))
ORDER BY name, id
LIMIT %(limit)s
