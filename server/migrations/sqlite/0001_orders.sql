-- Orders: one row per checkout, written BEFORE ePay is asked for a token.
CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY,
    invoice_id          TEXT    NOT NULL UNIQUE,          -- digits only, 6..15
    invoice_suffix      TEXT    NOT NULL,                 -- last 6 digits of invoice_id
    order_key           TEXT    NOT NULL,                 -- unlocks the status for the payer
    secret_hash         TEXT    NOT NULL,                 -- sent to ePay, echoed in postLink
    idempotency_key     TEXT    UNIQUE,
    request_fingerprint TEXT,                             -- sha256 of the checkout request
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    currency            TEXT    NOT NULL,
    terminal            TEXT    NOT NULL,
    method              TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    account_id          TEXT    NOT NULL DEFAULT '',
    email               TEXT    NOT NULL DEFAULT '',
    phone               TEXT    NOT NULL DEFAULT '',
    language            TEXT    NOT NULL,
    card_save           INTEGER NOT NULL DEFAULT 0,
    -- created | pending | start_failed | confirming | paid | failed | review | expired
    status              TEXT    NOT NULL,
    token_response      TEXT,                             -- the auth object exactly as ePay sent it
    token_expires_at    INTEGER,                          -- unix seconds
    start_error         TEXT,
    transaction_id      TEXT,
    card_mask           TEXT,
    approval_code       TEXT,
    reference           TEXT,
    failure_reason      TEXT,
    failure_code        INTEGER,
    review_reason       TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- ePay wants the last 6 digits unique too; only among orders that can still be paid.
CREATE UNIQUE INDEX orders_open_suffix ON orders (invoice_suffix)
    WHERE status IN ('created', 'pending', 'start_failed', 'confirming');

CREATE INDEX orders_status ON orders (status, updated_at);

-- Every postLink / failurePostLink ever received, accepted or not, with its raw body.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER REFERENCES orders (id),
    endpoint        TEXT    NOT NULL,   -- postlink | failure_postlink
    invoice_id      TEXT,
    transaction_id  TEXT,
    code            TEXT,
    verdict         TEXT    NOT NULL,   -- accepted | duplicate | ignored | rejected
    reason          TEXT,
    raw_body        TEXT    NOT NULL,
    received_at     INTEGER NOT NULL
);

CREATE INDEX notifications_order ON notifications (order_id, id);
