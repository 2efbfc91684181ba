-- The same as sqlite/0009 (on PostgreSQL every paid order has had captured_minor from 0001:
-- nothing to do unless rows were copied from an older SQLite store).
UPDATE orders SET captured_minor = amount_minor WHERE captured_minor IS NULL AND status IN ('paid', 'refunded');
