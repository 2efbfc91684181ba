-- Webhooks and money moving back (issue 11).

-- Two-stage payments: AUTH makes an order `authorized`; a capture makes it `paid`, a cancel
-- `cancelled`; refunds that return everything make it `refunded`.
ALTER TABLE orders ADD COLUMN captured_minor INTEGER;                 -- what was charged (CHARGE)
ALTER TABLE orders ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;

-- Capture, cancel and refund: stored before ePay is asked, with the externalID ePay gets, so a
-- retry after a timeout is the same operation at ePay, never a second one.
CREATE TABLE operations (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    kind             TEXT    NOT NULL,            -- capture | cancel | refund
    amount_minor     INTEGER,                     -- capture and refund amounts; NULL for cancel
    reason           TEXT,
    external_id      TEXT    NOT NULL UNIQUE,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    fingerprint      TEXT    NOT NULL,
    status           TEXT    NOT NULL,            -- pending | succeeded | failed | unknown
    epay_answer      TEXT,                        -- what ePay said last
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_check_ms    INTEGER,                     -- unknown: when to ask the status API again
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX operations_order ON operations (order_id, id);
CREATE INDEX operations_due ON operations (next_check_ms) WHERE next_check_ms IS NOT NULL;

-- The webhook outbox. Rows are written by the triggers below, in the statement (and so the
-- transaction) that changes the order or the operation: a change cannot commit without its
-- event, nor an event without its change, and one change makes exactly one event.
CREATE TABLE webhook_events (
    id               INTEGER PRIMARY KEY,
    event_id         TEXT    NOT NULL UNIQUE,     -- webhook-id, the same on every attempt
    type             TEXT    NOT NULL,
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    operation_id     INTEGER REFERENCES operations (id),
    created_ms       INTEGER NOT NULL,
    payload          TEXT,                        -- the body, fixed at the first attempt
    status           TEXT    NOT NULL DEFAULT 'pending',   -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER,                     -- NULL once delivered or given up
    delivered_ms     INTEGER
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_ms) WHERE next_attempt_ms IS NOT NULL;
CREATE INDEX webhook_events_order ON webhook_events (order_id, id);

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL REFERENCES webhook_events (id),
    at_ms            INTEGER NOT NULL,
    status_code      INTEGER,                     -- NULL: no answer (timeout, refused)
    error            TEXT,
    response         TEXT,                        -- the answer's first 1 KiB
    duration_ms      INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, id);

CREATE TRIGGER webhook_on_order_status AFTER UPDATE OF status ON orders
    WHEN NEW.status IS NOT OLD.status
     AND NEW.status IN ('paid', 'failed', 'expired', 'review', 'authorized', 'cancelled')
BEGIN
    INSERT INTO webhook_events (event_id, type, order_id, created_ms, next_attempt_ms)
    VALUES ('msg_' || lower(hex(randomblob(16))), 'order.' || NEW.status, NEW.id,
            CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;

CREATE TRIGGER webhook_on_operation_status AFTER UPDATE OF status ON operations
    WHEN NEW.status IS NOT OLD.status
     AND ((NEW.kind = 'capture' AND NEW.status = 'succeeded') OR (NEW.kind = 'refund' AND NEW.status IN ('succeeded', 'failed')))
BEGIN
    INSERT INTO webhook_events (event_id, type, order_id, operation_id, created_ms, next_attempt_ms)
    VALUES ('msg_' || lower(hex(randomblob(16))),
            CASE NEW.kind WHEN 'capture' THEN 'order.captured' ELSE 'refund.' || NEW.status END,
            NEW.order_id, NEW.id,
            CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
