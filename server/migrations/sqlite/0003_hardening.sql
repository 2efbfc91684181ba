-- Hardening (issue 8).

-- Every change of an order bumps its version: a decision made on one version of the row
-- (the confirmation worker's) applies only to that version.
ALTER TABLE orders ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- The invoice suffix stays reserved until the order's token can no longer be used, whatever
-- its state (a late success for a failed or expired order must not collide with a new order).
-- NULL: released. Only the maintenance task releases it.
ALTER TABLE orders ADD COLUMN reserved_suffix TEXT;
UPDATE orders SET reserved_suffix = invoice_suffix
    WHERE status IN ('created', 'pending', 'start_failed', 'confirming');
DROP INDEX orders_open_suffix;
CREATE UNIQUE INDEX orders_reserved_suffix ON orders (reserved_suffix) WHERE reserved_suffix IS NOT NULL;

-- A transfer's fee, as ePay reports it beside the amount.
ALTER TABLE orders ADD COLUMN fee_minor INTEGER;
-- Saved cards (cardSave): what the success postLink says about the card.
ALTER TABLE orders ADD COLUMN card_id TEXT;
ALTER TABLE orders ADD COLUMN card_type TEXT;
-- When a postLink without secret_hash last made the proxy ask the status API (unix ms).
ALTER TABLE orders ADD COLUMN last_hint_ms INTEGER;

-- Where a notification came from (the client address), for audits and per-source limits.
ALTER TABLE notifications ADD COLUMN source TEXT;
CREATE INDEX notifications_pruning ON notifications (verdict, received_at);
