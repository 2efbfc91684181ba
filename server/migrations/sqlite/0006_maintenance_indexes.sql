-- The maintenance round runs on the writer: every statement of it must touch only the rows it
-- changes, or the writer (and every request waiting on it) stalls while it scans history that
-- only grows. Found under load: at 1,000 postLinks/s, a round that scanned every paid order
-- and every webhook event held the writer for about 100 ms a minute.

-- Suffixes to release: orders still holding one, by the time their token (or merchant order,
-- or the order itself) stopped being usable.
CREATE INDEX orders_suffix_release ON orders (COALESCE(token_expires_at, expires_at, created_at))
    WHERE reserved_suffix IS NOT NULL;

-- Delivery attempts to prune, oldest first.
CREATE INDEX webhook_attempts_age ON webhook_attempts (at_ms);
