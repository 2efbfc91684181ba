-- The same as sqlite/0008: amountBonus, orgAmount and payoutAmount from ePay's status API.
ALTER TABLE orders ADD COLUMN amount_bonus_minor BIGINT;
ALTER TABLE orders ADD COLUMN org_amount_minor BIGINT;
ALTER TABLE orders ADD COLUMN payout_amount_minor BIGINT;
