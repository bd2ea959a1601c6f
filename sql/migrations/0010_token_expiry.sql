-- expires_at: the instant an API token stops being accepted (NULL: never).
-- An expired token is refused exactly like a revoked one (cronkeeper/tokens.py
-- compares it with the API's clock); the row stays, so the listing can show
-- it as expired. No CHECK against created_at: created_at is the database's
-- clock, expires_at is computed from the caller's.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
