-- The same as sqlite/0010: each webhook event keeps the order as it stood when it was made.
ALTER TABLE webhook_events ADD COLUMN snapshot TEXT;

CREATE FUNCTION webhook_order_snapshot(order_id BIGINT) RETURNS TEXT LANGUAGE sql AS $$
    SELECT CAST(json_build_object(
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
            'operations', (SELECT COALESCE(json_agg(json_build_object('id', p.id, 'status', p.status, 'epay_answer', p.epay_answer) ORDER BY p.id), '[]'::json)
                           FROM operations p WHERE p.order_id = o.id),
            'post_links_up_to', (SELECT MAX(n.id) FROM notifications n WHERE n.order_id = o.id)) AS TEXT)
    FROM orders o WHERE o.id = order_id
$$;

CREATE OR REPLACE FUNCTION webhook_on_order_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (event_id, type, order_id, created_ms, next_attempt_ms, snapshot)
    VALUES (webhook_event_id(), 'order.' || NEW.status, NEW.id, webhook_now_ms(), webhook_now_ms(), webhook_order_snapshot(NEW.id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION webhook_on_operation_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (event_id, type, order_id, operation_id, created_ms, next_attempt_ms, snapshot)
    VALUES (webhook_event_id(),
            CASE NEW.kind WHEN 'capture' THEN 'order.captured' ELSE 'refund.' || NEW.status END,
            NEW.order_id, NEW.id, webhook_now_ms(), webhook_now_ms(), webhook_order_snapshot(NEW.order_id));
    RETURN NULL;
END
$$;
