-- Issue 31: cards the payer agreed to save, and payments the shop starts with them
-- (docs/saved-cards.md).

-- A card ePay saved (cardSave) for a customer (the shop's accountId), once the payer agreed.
-- `status`: pending (saved by a payment ePay has not confirmed yet; never charged), active,
-- deleted (never charged again). Deactivation at ePay is retried until it answers; it moves no
-- money, so sending it again is safe.
CREATE TABLE saved_cards (
    id                   INTEGER PRIMARY KEY,
    card_ref             TEXT    NOT NULL UNIQUE,
    account_id           TEXT    NOT NULL,
    epay_card_id         TEXT    NOT NULL UNIQUE,
    terminal             TEXT    NOT NULL,
    card_mask            TEXT,
    card_type            TEXT,
    issuer               TEXT,
    saved_by_order       INTEGER NOT NULL REFERENCES orders (id),
    status               TEXT    NOT NULL,
    saved_at             INTEGER NOT NULL,
    last_used_at         INTEGER,
    deleted_at           INTEGER,
    deleted_by           TEXT,
    deactivate_next_ms   INTEGER,
    deactivate_attempts  INTEGER NOT NULL DEFAULT 0,
    deactivated_at       INTEGER,
    deactivate_error     TEXT
);
CREATE INDEX saved_cards_account ON saved_cards (account_id, id);
CREATE INDEX saved_cards_by_order ON saved_cards (saved_by_order);
CREATE INDEX saved_cards_deactivation_due ON saved_cards (deactivate_next_ms) WHERE deactivate_next_ms IS NOT NULL;

-- The payer's answer to "save this card for later payments", given when paying a merchant
-- order that allows it (the latest start's answer counts).
CREATE TABLE card_consents (
    order_id  INTEGER PRIMARY KEY REFERENCES orders (id),
    given     INTEGER NOT NULL,
    at        INTEGER NOT NULL
);

-- A merchant order paid with a saved card, server to server: the card, and its one request.
-- `sent_ms` is set before the request leaves; a charge with it set is never sent again
-- (the status API decides what happened).
CREATE TABLE card_charges (
    order_id        INTEGER PRIMARY KEY REFERENCES orders (id),
    card_id         INTEGER NOT NULL REFERENCES saved_cards (id),
    sent_ms         INTEGER,
    answer          TEXT,
    decline_code    INTEGER,
    decline_reason  TEXT
);
CREATE INDEX card_charges_card ON card_charges (card_id);
