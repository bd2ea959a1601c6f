-- name: queue
-- One pending delivery of an alert's event per enabled channel of its customer (and global ones).
INSERT INTO alert_deliveries (alert_id, channel_id, event, next_attempt_at)
SELECT %(alert_id)s, ch.id, %(event)s, %(now)s
FROM alert_channels ch
WHERE ch.enabled AND (ch.customer_id = %(customer_id)s OR ch.customer_id IS NULL)

-- name: claim_due
-- Take due attempts for lease_seconds (pushing next_attempt_at on), so another
-- scheduler does not send them meanwhile; the send happens outside any transaction.
UPDATE alert_deliveries d SET next_attempt_at = %(now)s + make_interval(secs => %(lease_seconds)s)
WHERE d.id IN (
    SELECT id FROM alert_deliveries
    WHERE status = 'pending' AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING d.id, d.alert_id, d.channel_id, d.event, d.attempt

-- name: mark_sent
UPDATE alert_deliveries SET status = 'sent', sent_at = %(now)s, error = NULL
WHERE id = %(id)s AND status = 'pending'

-- name: mark_failed
UPDATE alert_deliveries SET status = 'failed', error = %(error)s
WHERE id = %(id)s AND status = 'pending'
RETURNING id

-- name: retry
INSERT INTO alert_deliveries (alert_id, channel_id, event, attempt, next_attempt_at)
VALUES (%(alert_id)s, %(channel_id)s, %(event)s, %(attempt)s, %(next_attempt_at)s)

-- name: for_alert
SELECT * FROM alert_deliveries WHERE alert_id = %(alert_id)s ORDER BY id
