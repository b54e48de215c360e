-- Every GET /api/me/enrollment reads max(applied_at) to learn whether a
-- nightly sync has changed plans since it cached them; keep that an index
-- lookup however many nights have been recorded.
CREATE INDEX IF NOT EXISTS applied_delta_applied_at ON applied_delta (applied_at);
