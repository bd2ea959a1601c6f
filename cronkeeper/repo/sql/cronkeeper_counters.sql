-- name: increment
-- Adds each (name, labels) pair's amount to this process's shard, creating the
-- row at its first event. The caller sends each pair once, sorted, so two
-- transactions that share a shard lock its rows in the same order (no deadlock).
INSERT INTO cronkeeper_counters AS c (name, labels, shard, value)
SELECT u.name, u.labels, %(shard)s, u.value
FROM unnest(%(names)s::text[], %(labels)s::text[], %(values)s::bigint[]) AS u(name, labels, value)
ON CONFLICT (name, labels, shard) DO UPDATE SET value = c.value + excluded.value

-- name: totals
-- Every counter, its shards summed: a table of (names x labels x shards) rows,
-- a few hundred at most, whatever the number of runs. Unsorted: the caller
-- sorts the few dozen sums (sorting here cost as much as the rest).
SELECT name, labels, sum(value)::bigint AS value
FROM cronkeeper_counters
GROUP BY name, labels
