-- Merchant orders (issue 10): the shop's backend fixes the price through the merchant API; the
-- payer only pays. New state `open`: stored, nobody has started paying it yet.

ALTER TABLE orders ADD COLUMN source TEXT NOT NULL DEFAULT 'payer';   -- payer | merchant
ALTER TABLE orders ADD COLUMN merchant_reference TEXT;                -- the shop's own order id
ALTER TABLE orders ADD COLUMN merchant_idempotency_key TEXT;          -- its own namespace: a browser cannot squat it
ALTER TABLE orders ADD COLUMN merchant_fingerprint TEXT;              -- sha256 of the create request
ALTER TABLE orders ADD COLUMN metadata TEXT;                          -- a JSON object, exactly as the merchant sent it
ALTER TABLE orders ADD COLUMN return_url TEXT;
ALTER TABLE orders ADD COLUMN expires_at INTEGER;                     -- unix seconds: cannot be started after it

CREATE UNIQUE INDEX orders_merchant_reference ON orders (merchant_reference) WHERE merchant_reference IS NOT NULL;
CREATE UNIQUE INDEX orders_merchant_idempotency_key ON orders (merchant_idempotency_key)
    WHERE merchant_idempotency_key IS NOT NULL;
CREATE INDEX orders_created ON orders (created_at, id);
CREATE INDEX orders_open_expiry ON orders (expires_at) WHERE status = 'open';

-- Every status an order entered, written by the database in the statement that changes it:
-- no code path can change a status without its history.
CREATE TABLE order_history (
    id        INTEGER PRIMARY KEY,
    order_id  INTEGER NOT NULL REFERENCES orders (id),
    status    TEXT    NOT NULL,
    at        INTEGER NOT NULL        -- unix seconds (the row's updated_at)
);
CREATE INDEX order_history_order ON order_history (order_id, id);

INSERT INTO order_history (order_id, status, at) SELECT id, status, updated_at FROM orders;

CREATE TRIGGER order_history_on_insert AFTER INSERT ON orders
BEGIN
    INSERT INTO order_history (order_id, status, at) VALUES (NEW.id, NEW.status, NEW.updated_at);
END;

CREATE TRIGGER order_history_on_update AFTER UPDATE OF status ON orders
    WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO order_history (order_id, status, at) VALUES (NEW.id, NEW.status, NEW.updated_at);
END;
