-- The same as sqlite/0011.
CREATE INDEX orders_merchant_suffix ON orders (reserved_suffix) WHERE reserved_suffix IS NOT NULL AND source = 'merchant';
