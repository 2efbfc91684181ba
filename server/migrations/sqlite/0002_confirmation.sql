-- Confirmation and reconciliation through ePay's status API. The schedule lives in the
-- database, so a restart loses nothing.
ALTER TABLE orders ADD COLUMN next_check_ms INTEGER;               -- unix milliseconds; NULL: nothing to ask
ALTER TABLE orders ADD COLUMN check_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN last_check TEXT;                     -- what the status API said last

-- Orders stored before this migration are asked about at once.
UPDATE orders SET next_check_ms = 0 WHERE status IN ('pending', 'confirming');

CREATE INDEX orders_due ON orders (next_check_ms) WHERE next_check_ms IS NOT NULL;
