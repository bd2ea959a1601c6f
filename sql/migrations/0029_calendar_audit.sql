-- compatible: additive
-- Calendars get an audit resource type of their own.
--
-- Calendar changes were recorded as their customer's events (resource_type
-- 'customer', resource_id the customer's id) because the CHECK predated
-- calendars. They become 'calendar' events named by the calendar's id, so one
-- calendar's history is one index range (audit_events_resource_idx) and the
-- calendar page can list it; customer_id stays the customer's, so
-- `?customer_id=` and a customer-bound token still see them. The events
-- written before carry the calendar's id in changes.calendar_id ([before,
-- after]; null on one side for a create or delete): they move too. Code of the
-- version before still writes 'customer' events, which the CHECK still allows.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_resource_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_resource_type_check
    CHECK (resource_type IN ('job', 'run', 'brand', 'query', 'customer', 'token', 'alert', 'alert_channel',
                             'calendar'));

UPDATE audit_events
SET resource_type = 'calendar',
    resource_id = coalesce(changes -> 'calendar_id' ->> 1, changes -> 'calendar_id' ->> 0)
WHERE resource_type = 'customer'
  AND action LIKE 'calendar\_%'
  AND coalesce(changes -> 'calendar_id' ->> 1, changes -> 'calendar_id' ->> 0) IS NOT NULL;
