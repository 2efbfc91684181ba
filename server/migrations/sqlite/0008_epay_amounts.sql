-- What ePay's status API reports beside `amount` (issue 19, docs/epay-contract.md "Status API"):
-- the part Halyk bonuses paid, the transaction's original amount and what was paid back out.
ALTER TABLE orders ADD COLUMN amount_bonus_minor INTEGER;   -- amountBonus
ALTER TABLE orders ADD COLUMN org_amount_minor INTEGER;     -- orgAmount
ALTER TABLE orders ADD COLUMN payout_amount_minor INTEGER;  -- payoutAmount
