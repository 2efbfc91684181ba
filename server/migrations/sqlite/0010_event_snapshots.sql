-- Webhook events carry the order as it stood when they were made (issue 20, item 4): a
-- snapshot of everything about an order that changes, written by the trigger that writes the
-- event, in the same statement as the change. The payload is built from it, however late the
-- event is first sent (server/src/webhooks/snapshot.rs). Events made before this migration
-- have none: built from the order as it is when first sent, as before.
ALTER TABLE webhook_events ADD COLUMN snapshot TEXT;

-- The snapshot of each order, as JSON (both triggers read it).
CREATE VIEW order_snapshots AS
SELECT o.id AS order_id, json_object(
        'version', o.version,
        'status', o.status,
        'updated_at', o.updated_at,
        'transaction_id', o.transaction_id,
        'card_mask', o.card_mask,
        'approval_code', o.approval_code,
        'reference', o.reference,
        'failure_reason', o.failure_reason,
        'failure_code', o.failure_code,
        'review_reason', o.review_reason,
        'fee_minor', o.fee_minor,
        'card_id', o.card_id,
        'card_type', o.card_type,
        'captured_minor', o.captured_minor,
        'refunded_minor', o.refunded_minor,
        'amount_bonus_minor', o.amount_bonus_minor,
        'org_amount_minor', o.org_amount_minor,
        'payout_amount_minor', o.payout_amount_minor,
        'check_attempts', o.check_attempts,
        'next_check_ms', o.next_check_ms,
        'last_check', o.last_check,
        'operations', json((SELECT json_group_array(json_object('id', p.id, 'status', p.status, 'epay_answer', p.epay_answer))
                            FROM operations p WHERE p.order_id = o.id)),
        'post_links_up_to', (SELECT MAX(n.id) FROM notifications n WHERE n.order_id = o.id)) AS snapshot
FROM orders o;

DROP TRIGGER webhook_on_order_status;
CREATE TRIGGER webhook_on_order_status AFTER UPDATE OF status ON orders
    WHEN NEW.status IS NOT OLD.status
     AND NEW.status IN ('paid', 'failed', 'expired', 'review', 'authorized', 'cancelled')
BEGIN
    INSERT INTO webhook_events (event_id, type, order_id, created_ms, next_attempt_ms, snapshot)
    VALUES ('msg_' || lower(hex(randomblob(16))), 'order.' || NEW.status, NEW.id,
            CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER),
            (SELECT snapshot FROM order_snapshots WHERE order_id = NEW.id));
END;

DROP TRIGGER webhook_on_operation_status;
CREATE TRIGGER webhook_on_operation_status AFTER UPDATE OF status ON operations
    WHEN NEW.status IS NOT OLD.status
     AND ((NEW.kind = 'capture' AND NEW.status = 'succeeded') OR (NEW.kind = 'refund' AND NEW.status IN ('succeeded', 'failed')))
BEGIN
    INSERT INTO webhook_events (event_id, type, order_id, operation_id, created_ms, next_attempt_ms, snapshot)
    VALUES ('msg_' || lower(hex(randomblob(16))),
            CASE NEW.kind WHEN 'capture' THEN 'order.captured' ELSE 'refund.' || NEW.status END,
            NEW.order_id, NEW.id,
            CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER),
            (SELECT snapshot FROM order_snapshots WHERE order_id = NEW.order_id));
END;
