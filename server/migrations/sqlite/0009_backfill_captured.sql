-- Orders paid before 0005 never got captured_minor: a full refund compared refunded_minor with
-- NULL and never marked them `refunded` (issue 20, item 12). A paid order was charged its
-- amount (two-stage captures, the only other way to be paid, came with 0005 and set it).
UPDATE orders SET captured_minor = amount_minor WHERE captured_minor IS NULL AND status IN ('paid', 'refunded');
