-- Issue 26, item 6: the maintenance round deletes idle console sessions through an index of
-- their last use (it read the whole table before), as it deletes expired ones through
-- admin_sessions_expiry.
CREATE INDEX admin_sessions_idle ON admin_sessions (last_seen_at);
