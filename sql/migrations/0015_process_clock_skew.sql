-- How far each process's own clock is from the database server's (seconds,
-- process minus server), measured at its last heartbeat; NULL when it does not
-- measure (the API). Scheduling, claims and leases use the server's time
-- (cronkeeper/clock.py: DatabaseClock), so a skewed clock changes nothing, but
-- it is shown (/api/admin/system, the process's info) so it can be fixed.
ALTER TABLE processes ADD COLUMN clock_skew_seconds double precision;
