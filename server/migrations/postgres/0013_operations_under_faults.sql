-- Money operations under faults (issue 25): an operation is sent again only when its request
-- provably never reached ePay, and is decided by amounts against the transaction as the
-- status API showed it just before the request (server/src/operations/confirm.rs).

-- How many requests of the operation may have reached ePay, and when the latest started
-- (NULL: none may have, so it may be sent). A request whose connection was refused is taken
-- back (sends - 1).
ALTER TABLE operations ADD COLUMN sends BIGINT NOT NULL DEFAULT 0;
ALTER TABLE operations ADD COLUMN sent_ms BIGINT;
-- The transaction as the status API showed it just before the request: what the operation is
-- measured against (amount + amount_bonus is what the charge holds).
ALTER TABLE operations ADD COLUMN before_amount_minor BIGINT;
ALTER TABLE operations ADD COLUMN before_bonus_minor BIGINT;
ALTER TABLE operations ADD COLUMN before_org_minor BIGINT;
ALTER TABLE operations ADD COLUMN before_status TEXT;
-- Since when the operation has waited for the same thing: to be sent at all (its requests
-- could not leave), or, once sent, for a trace at ePay (the first lookup that showed none; the
-- settle window's second such answer must come minutes after it).
ALTER TABLE operations ADD COLUMN waiting_since_ms BIGINT;

-- Operations in flight when this runs may have been sent: looked up, never sent again.
UPDATE operations SET sends = 1, sent_ms = created_at * 1000 WHERE status IN ('pending', 'accepted', 'unknown', 'review');
UPDATE operations SET sends = 1 WHERE status IN ('succeeded', 'failed');
