-- Index entries only for the rows a statement looks up (issue 28: every entry is written with
-- each version of its row, and an order gets a new version at each move).
-- A payer's checkout without an Idempotency-Key (the widget sends none) has nothing to find it
-- by: its NULL no longer takes an entry of the unique index.
ALTER TABLE orders DROP CONSTRAINT orders_idempotency_key_key;
CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Only unsigned notifications (rejected, hints) are ever pruned; signed ones are kept.
DROP INDEX notifications_pruning;
CREATE INDEX notifications_pruning ON notifications (verdict, received_at) WHERE verdict IN ('rejected', 'hint');
