-- Issue 26, item 3: an order's history row and the webhook event that announces a change are
-- written by the proxy's one writer of state changes (server/src/store/orders/change.rs), in
-- the transaction of the change, with the order's snapshot built from the same struct that
-- reads it back. The triggers and the functions that wrote them, a copy per dialect, go.
DROP TRIGGER order_history_on_insert ON orders;
DROP TRIGGER order_history_on_update ON orders;
DROP TRIGGER webhook_on_order_status ON orders;
DROP TRIGGER webhook_on_operation_status ON operations;
DROP FUNCTION order_history_write();
DROP FUNCTION webhook_on_order_status();
DROP FUNCTION webhook_on_operation_status();
DROP FUNCTION webhook_order_snapshot(BIGINT);
DROP FUNCTION webhook_event_id();
DROP FUNCTION webhook_now_ms();
