-- Issue 27: fiscal receipts (docs/fiscal-receipts.md).

-- What a receipt of the order lists, fixed when the order is made (JSON: the merchant's line
-- items, or its one line); NULL when no registrar was configured then: no receipt is due.
ALTER TABLE orders ADD COLUMN receipt_lines TEXT;

-- A receipt due or issued: a sale when its order was paid (or captured), a return when a refund
-- of it succeeded; made in the same transaction as that change. `external_number` is the
-- registrar's idempotency key (Webkassa's ExternalCheckNumber). `sent_ms` is set before the
-- first request leaves: a receipt with it set is looked up before it is ever sent again.
-- `status`: due, issued, failed (refused as it is: a person looks; retrying makes it due).
-- `next_attempt_ms` is when it is due next, or, while one instance issues it, its claim; that
-- instance's attempt ends (by its own timeout) before `claimed_until_ms`, so a receipt is never
-- in two attempts at once, and a person's "ask again" waits for a live claim to end.
CREATE TABLE receipts (
    id                   INTEGER PRIMARY KEY,
    order_id             INTEGER  NOT NULL REFERENCES orders (id),
    operation_id         INTEGER  REFERENCES operations (id),
    kind                 TEXT    NOT NULL,
    due_key              TEXT    NOT NULL,
    external_number      TEXT    NOT NULL UNIQUE,
    amount_minor         INTEGER  NOT NULL,
    positions            TEXT,
    status               TEXT    NOT NULL,
    attempts             INTEGER  NOT NULL DEFAULT 0,
    next_attempt_ms      INTEGER,
    sent_ms              INTEGER,
    claimed_until_ms     INTEGER,
    last_error           TEXT,
    check_number         TEXT,
    ticket_url           TEXT,
    registration_number  TEXT,
    issued_local         TEXT,
    issued_utc           TEXT,
    offline              INTEGER,
    shift_number         INTEGER,
    created_ms           INTEGER  NOT NULL,
    updated_ms           INTEGER  NOT NULL,
    issued_ms            INTEGER,
    UNIQUE (order_id, due_key)
);
CREATE INDEX receipts_due ON receipts (next_attempt_ms) WHERE status = 'due';
CREATE INDEX receipts_status ON receipts (status, id);

-- The cash register as the proxy last saw it: the shift it keeps open (the first receipt since
-- the last Z-report), when it is closed next, and what a person must act on (`alert`: blocked,
-- not activated, offline over 72 hours, wrong credentials). `claim_ms`: one instance closes it.
CREATE TABLE fiscal_registers (
    cashbox              TEXT    PRIMARY KEY,
    shift_opened_ms      INTEGER,
    last_closed_ms       INTEGER,
    claim_ms             INTEGER,
    alert                TEXT,
    alert_text           TEXT,
    alert_since_ms       INTEGER,
    last_error           TEXT,
    updated_ms           INTEGER  NOT NULL
);

