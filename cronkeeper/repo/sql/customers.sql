-- name: insert_customer
INSERT INTO customers (name) VALUES (%(name)s) RETURNING *

-- name: get_customer
SELECT * FROM customers WHERE id = %(id)s

-- name: list_customers
SELECT * FROM customers
WHERE (%(only_id)s::uuid IS NULL OR id = %(only_id)s)
ORDER BY name, id LIMIT %(limit)s OFFSET %(offset)s

-- name: update_customer
UPDATE customers SET name = %(name)s, updated_at = now() WHERE id = %(id)s RETURNING *

-- name: delete_customer
DELETE FROM customers WHERE id = %(id)s RETURNING id

-- name: list_customers_page
SELECT * FROM customers
WHERE (%(only_id)s::uuid IS NULL OR id = %(only_id)s)
  AND (%(after_name)s::text IS NULL OR (name, id) > (%(after_name)s, %(after_id)s::uuid))
ORDER BY name, id
LIMIT %(limit)s
