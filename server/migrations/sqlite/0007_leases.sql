-- Several instances (issue 13): a periodic job that must run once across them (the
-- maintenance round) runs where its lease was taken; a lease ends by itself at until_ms.
CREATE TABLE leases (
    name      TEXT    PRIMARY KEY,
    holder    TEXT    NOT NULL,     -- the instance that has it
    until_ms  INTEGER NOT NULL      -- unix milliseconds
);

-- Orders interrupted while their token was being asked for are found by age (any instance may
-- have asked): only `created` orders are read.
CREATE INDEX orders_created_state ON orders (updated_at) WHERE status = 'created';
