-- Issue 26, item 3: an order's history row and the webhook event that announces a change are
-- written by the proxy's one writer of state changes (server/src/store/orders/change.rs), in
-- the transaction of the change, with the order's snapshot built from the same struct that
-- reads it back. The triggers and the snapshot view that wrote them, a copy per dialect, go.
DROP TRIGGER order_history_on_insert;
DROP TRIGGER order_history_on_update;
DROP TRIGGER webhook_on_order_status;
DROP TRIGGER webhook_on_operation_status;
DROP VIEW order_snapshots;
