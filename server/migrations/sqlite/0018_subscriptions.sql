-- Issue 31: subscriptions that bill a saved card on schedule (docs/saved-cards.md), the test
-- clock their scheduler reads, and webhook events about a subscription (an event names an
-- order, a subscription, or both). SQLite cannot drop a column's NOT NULL in place: the outbox
-- is rebuilt. The migration runs in a transaction, where foreign keys cannot be switched off;
-- they are checked at its commit instead, by when every event is back under its old id (its
-- delivery attempts point at it).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE subscriptions (
    id                    INTEGER PRIMARY KEY,
    sub_ref               TEXT    NOT NULL UNIQUE,
    account_id            TEXT    NOT NULL,
    card_id               INTEGER NOT NULL REFERENCES saved_cards (id),
    amount_minor          INTEGER NOT NULL,
    currency              TEXT    NOT NULL,
    interval_unit         TEXT    NOT NULL,
    interval_count        INTEGER NOT NULL,
    anchor_at             INTEGER NOT NULL,
    description           TEXT    NOT NULL,
    metadata              TEXT,
    retry_days            TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    status_reason         TEXT,
    next_period           INTEGER NOT NULL,
    attempt               INTEGER NOT NULL DEFAULT 0,
    due_ms                INTEGER,
    claimed_until_ms      INTEGER,
    cancel_at_period_end  INTEGER NOT NULL DEFAULT 0,
    cancelled_at          INTEGER,
    idempotency_key       TEXT    NOT NULL UNIQUE,
    fingerprint           TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    version               INTEGER NOT NULL DEFAULT 0
);
-- `due_ms` is on the test clock: when it is charged (or retried, or ended) next. A worker that
-- takes it holds it until `claimed_until_ms` (real time), so an instance that dies gives it up.
CREATE INDEX subscriptions_due ON subscriptions (due_ms) WHERE due_ms IS NOT NULL;
CREATE INDEX subscriptions_account ON subscriptions (account_id, id);

-- Each attempt to charge a period is one merchant order, made once: (subscription, period,
-- attempt) is its key, and the order's Idempotency-Key is made from it.
CREATE TABLE subscription_charges (
    subscription_id  INTEGER NOT NULL REFERENCES subscriptions (id),
    period           INTEGER NOT NULL,
    attempt          INTEGER NOT NULL,
    order_id         INTEGER NOT NULL UNIQUE REFERENCES orders (id),
    period_start     INTEGER NOT NULL,
    period_end       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, period, attempt)
);

-- How far the sandbox's clock runs ahead of the real one (tests move it; EPAY_ENV=sandbox only).
CREATE TABLE test_clock (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    offset_secs  INTEGER NOT NULL
);

CREATE TABLE webhook_events_before AS SELECT * FROM webhook_events;
DROP TABLE webhook_events;
CREATE TABLE webhook_events (
    id               INTEGER PRIMARY KEY,
    event_id         TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    order_id         INTEGER REFERENCES orders (id),
    operation_id     INTEGER REFERENCES operations (id),
    created_ms       INTEGER NOT NULL,
    payload          TEXT,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER,
    delivered_ms     INTEGER,
    snapshot         TEXT,
    subscription_id  INTEGER REFERENCES subscriptions (id),
    CHECK (order_id IS NOT NULL OR subscription_id IS NOT NULL)
);
INSERT INTO webhook_events (id, event_id, type, order_id, operation_id, created_ms, payload, status, attempts, next_attempt_ms, delivered_ms, snapshot)
    SELECT id, event_id, type, order_id, operation_id, created_ms, payload, status, attempts, next_attempt_ms, delivered_ms, snapshot
    FROM webhook_events_before;
DROP TABLE webhook_events_before;
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_ms) WHERE next_attempt_ms IS NOT NULL;
CREATE INDEX webhook_events_order ON webhook_events (order_id, id);
CREATE INDEX webhook_events_subscription ON webhook_events (subscription_id, id) WHERE subscription_id IS NOT NULL;
