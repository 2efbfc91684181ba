//! The moves of an order from state to state, each through the one writer (`change.rs`) in the
//! writer's transaction (`Tx`): no state changes outside `Store::write`.

use super::change::{Move, change};
use super::row::Outcome;
use super::state::OrderState;
use crate::store::{StoreError, Tx, now, now_ms, params};

/// Records the token ePay issued: the order is now waiting for the payer, and the status API
/// is asked about it at `first_check_ms` unless a postLink comes first. Only a `created` order
/// takes it: one that moved on meanwhile (a postLink, the status API) never goes back to
/// `pending`. Returns whether it did.
pub fn record_token(tx: &mut Tx, id: i64, raw_token: &str, expires_at: i64, first_check_ms: i64) -> Result<bool, StoreError> {
    let step = Move {
        to: OrderState::Pending,
        from: &[OrderState::Created],
        set: "token_response = ?, token_expires_at = ?, next_check_ms = ?, check_attempts = 0, ",
        values: params![raw_token, expires_at, first_check_ms],
        at: now(),
    };
    Ok(change(tx, id, step)?.is_some())
}

/// Records why the token request failed; the order cannot be paid until a retry. Unless one
/// comes, reconciliation looks it up at `check_ms` (a token ePay issued after all?) and lets it
/// expire.
pub fn record_start_failure(tx: &mut Tx, id: i64, error: &str, check_ms: i64) -> Result<(), StoreError> {
    fail_start(tx, id, error, check_ms)
}

/// Orders still `created` that were last touched before `started_before` (unix seconds) have
/// no token request in flight any more: the process that asked was stopped, or died. They are
/// reconciled like any failed start. With one proxy, a restart passes its own start time; with
/// several sharing a database, another instance may be asking right now, so only orders older
/// than any token request can be are taken (the maintenance round).
pub fn fail_interrupted_starts(tx: &mut Tx, started_before: i64, check_ms: i64) -> Result<u64, StoreError> {
    let lock = tx.for_update();
    let interrupted: Vec<i64> = tx.query_all(&format!("{INTERRUPTED_STARTS} {lock}"), params![started_before], |row| row.get(0))?;
    let error = "interrupted: no answer from the instance that asked for its token";
    for &id in &interrupted {
        fail_start(tx, id, error, check_ms)?;
    }
    Ok(interrupted.len() as u64)
}

/// A maintenance statement: through `orders_status` (`maintenance::tests`).
/// In the order of their ids, so that two instances' rounds lock them in one order.
pub(crate) const INTERRUPTED_STARTS: &str = "SELECT id FROM orders WHERE status = 'created' AND updated_at < ? ORDER BY id";

/// `created` to `start_failed`: why, and when the status API is asked about it.
fn fail_start(tx: &mut Tx, id: i64, error: &str, check_ms: i64) -> Result<(), StoreError> {
    let set = "start_error = ?, next_check_ms = ?, check_attempts = 0, ";
    change(tx, id, Move { to: OrderState::StartFailed, from: &[OrderState::Created], set, values: params![error, check_ms], at: now() })?;
    Ok(())
}

/// Moves an order to `state`, recording what ePay said about it. A `confirming` order is due
/// for the status API at once; every other state asks nothing more.
pub fn set_outcome(tx: &mut Tx, id: i64, state: OrderState, outcome: &Outcome) -> Result<(), StoreError> {
    let next_check_ms = (state == OrderState::Confirming).then(now_ms);
    let (fee_minor, bonus, org, payout) =
        (minor(outcome.fee), minor(outcome.amount_bonus), minor(outcome.org_amount), minor(outcome.payout_amount));
    // A paid order counts its whole amount as captured (unless an earlier capture said how much).
    let captured = if state == OrderState::Paid { "COALESCE(captured_minor, amount_minor)" } else { "captured_minor" };
    let set = format!("{SET_OUTCOME}captured_minor = {captured}, ");
    let step = Move {
        to: state,
        from: &[],
        set: &set,
        values: params![
            outcome.transaction_id,
            outcome.card_mask,
            outcome.approval_code,
            outcome.reference,
            outcome.failure_reason,
            outcome.failure_code,
            fee_minor,
            outcome.card_id,
            outcome.card_type,
            bonus,
            org,
            payout,
            next_check_ms
        ],
        at: now(),
    };
    change(tx, id, step)?;
    Ok(())
}

const SET_OUTCOME: &str = "transaction_id = COALESCE(?, transaction_id), card_mask = COALESCE(?, card_mask),
    approval_code = COALESCE(?, approval_code), reference = COALESCE(?, reference), failure_reason = ?, failure_code = ?,
    fee_minor = COALESCE(?, fee_minor), card_id = COALESCE(?, card_id), card_type = COALESCE(?, card_type),
    amount_bonus_minor = COALESCE(?, amount_bonus_minor), org_amount_minor = COALESCE(?, org_amount_minor),
    payout_amount_minor = COALESCE(?, payout_amount_minor), next_check_ms = ?, check_attempts = 0, ";

/// The payment window closed with no transaction at ePay; `last_check` is what it answered.
pub fn expire(tx: &mut Tx, id: i64, last_check: &str) -> Result<(), StoreError> {
    let step =
        Move { to: OrderState::Expired, from: &[], set: "last_check = ?, next_check_ms = NULL, ", values: params![last_check], at: now() };
    change(tx, id, step)?;
    Ok(())
}

/// Hands an order to a human: it stops being asked about and is never paid by itself.
pub fn send_to_review(tx: &mut Tx, id: i64, reason: &str) -> Result<(), StoreError> {
    let step =
        Move { to: OrderState::Review, from: &[], set: "review_reason = ?, next_check_ms = NULL, ", values: params![reason], at: now() };
    change(tx, id, step)?;
    Ok(())
}

/// Records what ePay said about a payment, and hands the order to a human instead of
/// moving it on: a payment that arrived after the order's invoice suffix went to `holder`
/// (ePay tells orders apart by those six digits too). `what` says how it arrived.
pub fn review_late_payment(tx: &mut Tx, id: i64, outcome: &Outcome, what: &str, holder: &str) -> Result<(), StoreError> {
    set_outcome(tx, id, OrderState::Review, outcome)?;
    send_to_review(tx, id, &format!("{what} after its invoice suffix went to order {holder}"))
}

/// A person's decision on an order in review, `paid` or `failed` (no money moves): the order
/// leaves `review` for that state, unless it left it meanwhile (`false`). A paid order counts
/// its whole amount as captured; a failed one says a person decided.
pub fn resolve_review(tx: &mut Tx, id: i64, decision: OrderState, at: i64) -> Result<bool, StoreError> {
    let set = match decision {
        OrderState::Paid => "captured_minor = COALESCE(captured_minor, amount_minor), next_check_ms = NULL, ",
        OrderState::Failed => "failure_reason = 'a person decided after review', next_check_ms = NULL, ",
        other => return Err(StoreError::Forbidden { id, from: OrderState::Review.as_str(), to: other.as_str() }),
    };
    Ok(change(tx, id, Move { to: decision, from: &[OrderState::Review], set, values: params![], at })?.is_some())
}

fn minor(amount: Option<epay_api_types::Amount>) -> Option<i64> {
    amount.map(|a| a.minor() as i64)
}
