-- Merchant orders holding an invoice suffix are counted on their own (MAX_OPEN_MERCHANT_ORDERS,
-- issue 20, item 7): an index of just them, so the count reads no table rows.
CREATE INDEX orders_merchant_suffix ON orders (reserved_suffix) WHERE reserved_suffix IS NOT NULL AND source = 'merchant';
